"""Settings for bench_widget's gunicorn only: the site's own, plus the bare baseline view.

The baseline must cross the same middleware stack as the widget, so it is served by the
same Django project, from a urlconf that exists only here (`widget_urls`): production code
never routes it.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "tests.benchmarks.widget_urls"
