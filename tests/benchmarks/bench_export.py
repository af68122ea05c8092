"""P6: streaming the JSON export of 100,000 events keeps memory flat.

Peak Python memory (tracemalloc) while consuming the export view's StreamingHttpResponse,
beside the peak of simply materialising the same rows with `list(values())`, both in one
run on a throwaway database.
"""

from __future__ import annotations

import os
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from tests.benchmarks.bench_erasure import (  # noqa: E402
    customer_with_events,
    drop_database,
    throwaway_database,
)

EVENTS = 100_000
TARGET_MB = 50


def peak_mb(func) -> tuple[float, float, object]:
    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    started = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return (peak - base) / 2**20, seconds, result


def stream_export(customer) -> int:
    from django.test import RequestFactory

    from transparency import views

    request = RequestFactory().get("/me/data/export/json/")
    request.user = customer.user
    request.customer = customer  # what accounts.decorators.customer_required sets
    response = views._stream(request, "json")
    return sum(len(chunk) for chunk in response.streaming_content)


def main() -> None:
    old = throwaway_database("bench_export")
    try:
        from ledger.models import Event

        customer = customer_with_events(EVENTS, "export")
        stream_mb, stream_s, size = peak_mb(lambda: stream_export(customer))
        list_mb, list_s, rows = peak_mb(
            lambda: len(list(Event.objects.filter(customer=customer).values()))
        )
        assert rows == EVENTS
    finally:
        drop_database(old)
    ok = "ok" if stream_mb <= TARGET_MB else "MISS"
    print(f"{'check':<44}  {'peak growth':>12}  {'time':>8}")
    print(
        f"{'streamed JSON export, 100,000 events':<44}  {stream_mb:>9.1f} MB  {stream_s:>6.1f} s"
        f"  <= {TARGET_MB} MB: {ok} ({size / 2**20:.1f} MB written)"
    )
    print(
        f"{'baseline: list(values()) of the same rows':<44}  {list_mb:>9.1f} MB  {list_s:>6.1f} s"
        f"  streamed / materialised = {stream_mb / list_mb:.2f}x"
    )


if __name__ == "__main__":
    main()
