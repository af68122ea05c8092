from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    name = "recommendations"
    verbose_name = "Recommendations (L3)"

    def ready(self) -> None:
        # Register this app's data kinds, and its tasks so any process (web too) can publish
        # them by name through the outbox.
        from corsheaders.signals import check_request_enabled

        from . import datakinds, tasks  # noqa: F401
        from .widget_auth import cors_request_allowed

        # CORS only for the widget API, only for the key's registered origins. Connected at
        # start-up so a process's first preflight is answered too.
        check_request_enabled.connect(cors_request_allowed, dispatch_uid="candor-widget-cors")
