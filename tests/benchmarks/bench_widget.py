"""P1: the widget recommendations endpoint under gunicorn vs a bare Django JSON view.

The production profile (DEBUG=0) under gunicorn (2 sync workers, no access log) on
127.0.0.1 at a free port, against:

* PostgreSQL: a throwaway database (`candor_bench_widget_<pid>`, created and dropped here) on
  the server at BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432), with
  CONN_MAX_AGE so each worker keeps its connection, as in a deployment;
* Redis as the cache (BENCH_REDIS_URL, default redis://127.0.0.1:6379/8) under a key prefix
  of its own, removed at the end;

seeded with a brand, a widget key, products and one token holder's precomputed results.
The baseline is `/bench/bare/`, routed only in this benchmark's server (its settings,
`widget_settings`, select the urlconf `widget_urls`: the site's URLs plus that view): the
same middleware stack and a JSON answer of the same shape, with no work behind it.

One load generator for all three cases: `wrk` (C, keep-alive when offered; a small Lua
script hands over its latency histogram) when installed (`make bench` installs Debian's
package when running as root), else a minimal keep-alive Python client
(BENCH_LOAD_GENERATOR=python forces it). Same concurrency and duration for every case,
rounds interleaved (bare, anonymous, personal, bare, ...), each bounded in time (and the
Python client also in count). Prints req/s, the ratio to the bare view (target >= 0.8x) and
p50/p99 latency (target p99 <= 10 ms).

    .venv/bin/python tests/benchmarks/run.py bench_widget
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ORIGIN = "http://bench.example"
WORKERS = 2
CONCURRENCY = 2  # connections; gunicorn's sync workers serve one each
ROUND_SECONDS = 3
ROUNDS = 5
WARMUP_SECONDS = 1
MAX_REQUESTS_PER_ROUND = 40_000  # the Python client's bound (wrk's is the duration)
TARGET_RATIO = 0.8
TARGET_P99_MS = 10.0
# Per run: two runs at once (several checkouts on one machine) must not drop each other's.
DB_NAME = f"candor_bench_widget_{os.getpid()}"
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")


def _var_dir() -> Path:
    path = Path(os.environ.get("CANDOR_VAR_DIR", ROOT / "var" / "bench")) / "bench_widget"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _database_url(name: str) -> str:
    parts = urlsplit(POSTGRES_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def _env(var: Path, prefix: str) -> dict:
    from cryptography.fernet import Fernet

    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        CONSENT_RECEIPT_KEYS=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("="),
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=_database_url(DB_NAME),
        CONN_MAX_AGE="60",
        REDIS_URL=REDIS_URL,
        CACHE_PREFIX=prefix,
        CANDOR_VAR_DIR=str(var),
        ALLOW_CONSOLE_EMAIL="1",  # no mail is sent while measuring
        WIDGET_RATE_LIMIT=str(10**9),  # counted on every request, never reached
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


# --- throwaway database and cache ------------------------------------------------------


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(_database_url("postgres"), autocommit=True, connect_timeout=3) as c:
        c.execute(sql)


def _db_create() -> None:
    try:
        _db_drop()
    except Exception as exc:
        raise SystemExit(
            f"bench_widget needs PostgreSQL at {POSTGRES_URL} (BENCH_POSTGRES_URL): "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    _admin(f'CREATE DATABASE "{DB_NAME}"')


def _db_drop() -> None:
    _admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def _cache_drop(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    for i in range(0, len(keys), 500):
        client.delete(*keys[i : i + 500])


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


# --- gunicorn ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str, headers: dict) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _wait_until_up(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited during start-up (see gunicorn.log)")
        try:
            if _get(port, "/bench/bare/", {})[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer in time")


# The server alone routes the baseline view (seeding runs with the site's own settings).
SERVER_SETTINGS = "tests.benchmarks.widget_settings"


def _gunicorn(port: int, env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--worker-class",
            "sync",
            "--timeout",
            "30",
            "--keep-alive",
            "5",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": SERVER_SETTINGS},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


# --- load generators -----------------------------------------------------------------

# wrk writes its whole latency histogram (microseconds, count) after each run, so the
# percentiles are over every request of every round, not averaged per round.
_WRK_SCRIPT = """
done = function(summary, latency, requests)
  local f = io.open(os.getenv("WRK_HISTOGRAM"), "w")
  for i = 1, #latency do
    local v, c = latency(i)
    f:write(v, " ", c, "\\n")
  end
  f:close()
end
"""
_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _wrk(port: int, path: str, headers: dict, seconds: float) -> dict:
    """One wrk run: requests, errors, elapsed seconds and the latency histogram (ms)."""
    var = _var_dir()
    script = var / "histogram.lua"
    script.write_text(_WRK_SCRIPT)
    histogram = var / "histogram.txt"
    histogram.unlink(missing_ok=True)
    cmd = ["wrk", "-t1", f"-c{CONCURRENCY}", f"-d{seconds}s", "--timeout", "5s", "-s", str(script)]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
        env={**os.environ, "WRK_HISTOGRAM": str(histogram)},
    ).stdout
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s)", out)
    if done is None:
        raise SystemExit(f"unreadable wrk output:\n{out}")
    elapsed = float(done.group(2)) * _UNIT[done.group(3)] / 1000
    errors = 0
    for pattern in (r"Non-2xx or 3xx responses: (\d+)", r"Socket errors: (.*)"):
        found = re.search(pattern, out)
        if found:
            errors += sum(int(n) for n in re.findall(r"\d+", found.group(1)))
    counts: dict[float, int] = {}
    for line in histogram.read_text().split("\n"):
        if line.strip():
            value, count = line.split()
            counts[int(value) / 1000] = counts.get(int(value) / 1000, 0) + int(count)
    return {
        "requests": int(done.group(1)),
        "errors": errors,
        "seconds": elapsed,
        "histogram": counts,
    }


def _python_load(port: int, path: str, headers: dict, seconds: float) -> dict:
    """CONCURRENCY threads, each one request at a time (keep-alive when offered)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker() -> None:
        local: list[float] = []
        bad = 0
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
    counts: dict[float, int] = {}
    for latency in latencies:
        ms = round(latency * 1000, 3)
        counts[ms] = counts.get(ms, 0) + 1
    return {
        "requests": len(latencies),
        "errors": errors[0],
        "seconds": elapsed,
        "histogram": counts,
    }


def _percentile(histogram: dict[float, int], q: float) -> float:
    total = sum(histogram.values())
    if not total:
        return 0.0
    rank = q * total
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return max(histogram)


def _generator():
    """wrk when installed (BENCH_LOAD_GENERATOR=python forces the Python client)."""
    if os.environ.get("BENCH_LOAD_GENERATOR", "wrk") == "wrk" and shutil.which("wrk"):
        return "wrk", _wrk
    return "python keep-alive client", _python_load


# --- the run ---------------------------------------------------------------------------


def _cases(creds: dict) -> list[tuple[str, str, dict]]:
    """(name, path, headers) of each endpoint measured; the bare view first (the baseline)."""
    widget = f"/api/v1/widget/recommendations?key={creds['key']}&slot=home&n=8"
    return [
        ("bare Django JSON view", "/bench/bare/", {}),
        ("widget, anonymous", widget, {"Origin": ORIGIN}),
        (
            "widget, personal (token)",
            widget,
            {"Origin": ORIGIN, "Authorization": f"Bearer {creds['token']}"},
        ),
    ]


def _warm_up(port: int, cases: list[tuple[str, str, dict]], load) -> None:
    """Check every answer, fill the caches, and make sure the two widget cases differ."""
    for name, path, headers in cases:
        status, _, body = _get(port, path, headers)
        if status != 200:
            raise SystemExit(f"{name}: HTTP {status} {body[:200]!r}")
        load(port, path, headers, WARMUP_SECONDS)
    anonymous = json.loads(_get(port, cases[1][1], cases[1][2])[2])
    personal = json.loads(_get(port, cases[2][1], cases[2][2])[2])
    if not personal["personalized"] or anonymous["personalized"]:
        raise SystemExit("the personal / anonymous cases did not get the expected answers")


def _measure(port: int, cases: list[tuple[str, str, dict]], load) -> dict[str, dict]:
    """ROUNDS rounds, the cases interleaved; totals, merged histogram and req/s per round."""
    results: dict[str, dict] = {
        name: {"requests": 0, "errors": 0, "seconds": 0.0, "histogram": {}, "rounds": []}
        for name, _, _ in cases
    }
    for _ in range(ROUNDS):
        for name, path, headers in cases:
            r = load(port, path, headers, ROUND_SECONDS)
            into = results[name]
            for field in ("requests", "errors", "seconds"):
                into[field] += r[field]
            for value, count in r["histogram"].items():
                into["histogram"][value] = into["histogram"].get(value, 0) + count
            into["rounds"].append(r["requests"] / r["seconds"] if r["seconds"] else 0.0)
    return results


def _rows(cases: list[tuple[str, str, dict]], results: dict[str, dict]) -> list[dict]:
    rows = []
    bare = results[cases[0][0]]
    bare_rps = bare["requests"] / bare["seconds"] if bare["seconds"] else 0.0
    for name, _, _ in cases:
        r = results[name]
        rps = r["requests"] / r["seconds"] if r["seconds"] else 0.0
        # Each round against the bare round just before it: steadier on a busy machine.
        per_round = sorted(w / b for w, b in zip(r["rounds"], bare["rounds"], strict=True) if b)
        rows.append(
            {
                "endpoint": name,
                "requests": r["requests"],
                "errors": r["errors"],
                "rps": rps,
                "ratio": rps / bare_rps if bare_rps else 0.0,
                "round_ratio": per_round[len(per_round) // 2] if per_round else 0.0,
                "p50_ms": _percentile(r["histogram"], 0.50),
                "p99_ms": _percentile(r["histogram"], 0.99),
            }
        )
    return rows


def run() -> tuple[str, list[dict]]:
    var = _var_dir()
    prefix = f"bench-widget-{os.getpid()}"
    env = _env(var, prefix)
    generator, load = _generator()
    _db_create()
    proc = None
    log = (var / "gunicorn.log").open("w")
    try:
        seeded = subprocess.run(
            [sys.executable, __file__, "--seed"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if seeded.returncode != 0:
            raise SystemExit(f"seeding failed:\n{seeded.stderr[-3000:]}")
        cases = _cases(json.loads(seeded.stdout.strip().splitlines()[-1]))
        port = _free_port()
        proc = _gunicorn(port, env, log)
        _wait_until_up(port, proc)
        _warm_up(port, cases, load)
        results = _measure(port, cases, load)
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()
        _cache_drop(prefix)
        _db_drop()
    return generator, _rows(cases, results)


def main() -> None:
    load_before = os.getloadavg()[0]
    generator, rows = run()
    print(
        f"gunicorn {WORKERS} sync workers (DEBUG=0) on 127.0.0.1; PostgreSQL + Redis cache; "
        f"{generator}, {CONCURRENCY} connections; {ROUNDS} x {ROUND_SECONDS} s per endpoint, "
        f"interleaved; load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    header = (
        f"{'endpoint':<28}{'requests':>9}{'errors':>7}{'req/s':>8}{'x bare':>8}"
        f"{'median':>8}{'p50 ms':>8}{'p99 ms':>8}  target"
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
            f"{row['endpoint']:<28}{row['requests']:>9}{row['errors']:>7}{row['rps']:>8.0f}"
            f"{row['ratio']:>8.2f}{row['round_ratio']:>8.2f}{row['p50_ms']:>8.2f}"
            f"{row['p99_ms']:>8.2f}  {target}"
        )
    print(
        "x bare: total requests / total time against the bare view's; median: the median of "
        "each round against the bare round before it. p50/p99 over every request."
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["--seed"]:
        seed()
    else:
        main()
