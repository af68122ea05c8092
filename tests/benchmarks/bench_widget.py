"""P1: the widget recommendations endpoint under gunicorn vs a bare Django JSON view.

Starts gunicorn (2 sync workers) on 127.0.0.1 at a free port, against a throwaway SQLite
database under CANDOR_VAR_DIR seeded with a brand, a widget key, products and one customer's
results, and with the benchmark-only `/bench/bare/` view switched on (BENCH_ENDPOINTS=1).
The same load generator (a bounded pool of Python threads, http.client, loopback only)
hits the bare view, the anonymous widget answer and the personal widget answer in
alternating rounds of equal duration and concurrency; the widget answers come from the
cache, as in production. Prints throughput, the ratio to the bare view (target >= 0.8x)
and p50/p99 latency (target p99 <= 10 ms).

    .venv/bin/python tests/benchmarks/run.py bench_widget
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ORIGIN = "http://bench.example"
CONCURRENCY = 2
ROUND_SECONDS = 4.0
ROUNDS = 2
MAX_REQUESTS_PER_ROUND = 40_000
TARGET_RATIO = 0.8
TARGET_P99_MS = 10.0


def _var_dir() -> Path:
    path = Path(os.environ.get("CANDOR_VAR_DIR", ROOT / "var" / "bench")) / "bench_widget"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _env(db: Path) -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{db}",
        CANDOR_VAR_DIR=str(db.parent),
        CACHE_PREFIX=f"bench-widget-{os.getpid()}",
        BENCH_ENDPOINTS="1",
        WIDGET_RATE_LIMIT=str(10**9),  # counted on every request, never reached
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


def seed() -> None:
    """Run in a subprocess with the throwaway database: migrate, seed, print key and token."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from accounts.keys import brand_token_secret_rotate, widget_key_create
    from accounts.models import CustomerBrand
    from accounts.services import brand_upsert, customer_create
    from ledger.models import Event, Product
    from recommendations.models import Recommendation
    from tests.widget import mint

    brand = brand_upsert(slug="bench", name="Bench Brand")
    secret = brand_token_secret_rotate(brand=brand)
    key = widget_key_create(brand=brand, origins=[ORIGIN]).key
    products = Product.objects.bulk_create(
        Product(brand=brand, external_id=f"sku-{i}", name=f"Product {i}", category="General")
        for i in range(50)
    )
    user = get_user_model().objects.create(username="bench-customer")
    customer = customer_create(user=user)
    CustomerBrand.objects.create(customer=customer, brand=brand, external_ref="bench-1")
    now = timezone.now()
    for rank, product in enumerate(products[:8], start=1):
        event = Event.objects.create(
            customer=customer, brand=brand, kind="view", product=product, occurred_at=now
        )
        Recommendation.objects.create(
            customer=customer,
            brand=brand,
            product=product,
            rank=rank,
            score=10.0 - rank,
            explanation=[
                {
                    "kind": "event",
                    "pk": event.pk,
                    "label": f"viewed {product.name}",
                    "date": now.date().isoformat(),
                }
            ],
        )
    token = mint(secret, sub="bench-1", iss=brand.slug, lifetime=900)
    print(json.dumps({"key": key, "token": token}))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str, headers: dict) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _wait_until_up(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited during start-up")
        try:
            if _get(port, "/bench/bare/", {})[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer in time")


def _load(port: int, path: str, headers: dict, seconds: float) -> dict:
    """CONCURRENCY threads, each one request at a time, for `seconds` (bounded count)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker() -> None:
        local: list[float] = []
        bad = 0
        # Keep-alive when the server offers it; gunicorn's sync workers close after each
        # response and http.client reconnects, the same way for every endpoint.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        while time.perf_counter() < stop_at and len(local) < MAX_REQUESTS_PER_ROUND:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    bad += 1
                if response.getheader("connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
            local.append(time.perf_counter() - started)
        conn.close()
        with lock:
            latencies.extend(local)
            errors[0] += bad

    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return {"latencies": latencies, "errors": errors[0], "seconds": elapsed}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def run() -> list[dict]:
    var = _var_dir()
    db = var / "bench_widget.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    env = _env(db)
    seeded = subprocess.run(
        [sys.executable, __file__, "--seed"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    creds = json.loads(seeded.stdout.strip().splitlines()[-1])
    port = _free_port()
    log = (var / "gunicorn.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "sync",
            "--timeout",
            "30",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    widget = f"/api/v1/widget/recommendations?key={creds['key']}&slot=home&n=8"
    cases = [
        ("bare Django JSON view", "/bench/bare/", {}),
        ("widget, anonymous", widget, {"Origin": ORIGIN}),
        (
            "widget, personal (token)",
            widget,
            {"Origin": ORIGIN, "Authorization": f"Bearer {creds['token']}"},
        ),
    ]
    try:
        _wait_until_up(port, proc)
        for _, path, headers in cases:  # check, and fill the widget cache
            status, body = _get(port, path, headers)
            if status != 200:
                raise SystemExit(f"{path}: HTTP {status} {body[:200]!r}")
            _load(port, path, headers, 0.5)
        personal = json.loads(_get(port, widget, cases[2][2])[1])
        if not personal["personalized"]:
            raise SystemExit("the personal case did not get personal results")
        results = {name: {"latencies": [], "errors": 0, "seconds": 0.0} for name, _, _ in cases}
        for _ in range(ROUNDS):
            for name, path, headers in cases:
                r = _load(port, path, headers, ROUND_SECONDS)
                results[name]["latencies"] += r["latencies"]
                results[name]["errors"] += r["errors"]
                results[name]["seconds"] += r["seconds"]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()

    rows = []
    bare_rps = None
    for name, _, _ in cases:
        r = results[name]
        rps = len(r["latencies"]) / r["seconds"] if r["seconds"] else 0.0
        bare_rps = bare_rps or rps
        rows.append(
            {
                "endpoint": name,
                "requests": len(r["latencies"]),
                "errors": r["errors"],
                "rps": rps,
                "ratio": rps / bare_rps if bare_rps else 0.0,
                "p50_ms": _pct(r["latencies"], 0.50),
                "p99_ms": _pct(r["latencies"], 0.99),
            }
        )
    return rows


def main() -> None:
    rows = run()
    print(
        f"gunicorn 2 sync workers on 127.0.0.1; {CONCURRENCY} client threads; "
        f"{ROUNDS} x {ROUND_SECONDS:.0f} s per endpoint, interleaved; cache: "
        + ("Redis (REDIS_URL)" if os.environ.get("REDIS_URL") else "file-based (no REDIS_URL)")
    )
    header = (
        f"{'endpoint':<28}{'requests':>9}{'errors':>7}{'req/s':>9}{'x bare':>8}"
        f"{'p50 ms':>8}{'p99 ms':>8}  target"
    )
    print(header)
    print("-" * len(header))
    for i, row in enumerate(rows):
        if i == 0:
            target = "baseline"
        else:
            ok = row["ratio"] >= TARGET_RATIO and row["p99_ms"] <= TARGET_P99_MS
            target = (
                f">= {TARGET_RATIO}x, p99 <= {TARGET_P99_MS:.0f} ms: {'PASS' if ok else 'FAIL'}"
            )
        print(
            f"{row['endpoint']:<28}{row['requests']:>9}{row['errors']:>7}{row['rps']:>9.0f}"
            f"{row['ratio']:>8.2f}{row['p50_ms']:>8.2f}{row['p99_ms']:>8.2f}  {target}"
        )


if __name__ == "__main__":
    if sys.argv[1:] == ["--seed"]:
        seed()
    else:
        main()
