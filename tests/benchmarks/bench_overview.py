"""Benchmark the overview ("at a glance", /me/): 10,000 events against 10 and 500, in one run.

The overview counts everything the customer has, so unlike a paged list its database work
grows with the history: one grouped UNION ALL (rows per kind, brand, day and use) instead of
a row per event. The number of queries must not grow at all; the time may, within the
target, against the 500-event baseline measured in the same run.
Runs on a throwaway test database (never the dev database):
`.venv/bin/python tests/benchmarks/run.py bench_overview`.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.benchmarks.bench_activity import FULL_PAGE, SMALL, bench_page  # noqa: E402

TARGET_RATIO = 2.0


def main() -> None:
    bench_page(
        label="overview",
        url_name="dashboard:home",
        scenarios=lambda brands: [("overview", {})],
        target_ratio=TARGET_RATIO,
        spacing_minutes=53,  # a year of history
        title=(
            "Overview render, median of {repeats} ({vendor}). Baselines measured in "
            f"this run: {SMALL} and {FULL_PAGE} events."
        ),
    )


if __name__ == "__main__":
    main()
