"""Scale of the pure recommendation core (``recommendations.ml``) on synthetic data.

Run ``.venv/bin/python tests/benchmarks/run.py bench_scale`` (a few minutes). Data: power-law
item popularity (Zipf, exponent 1) and customer activity (exponent 0.5), three quarters of
the signals positive (4-5 on the 1-5 scale), the rest neutral or negative (known only).
Each measurement runs in a fresh subprocess so its peak RSS (``ru_maxrss``) is its own:

* the brand of the target (1M events x 50k customers x 20k items) through the pure
  pipeline: signals -> fit -> top-10 with 2 cited signals for every customer, with the
  model the catalogue size chooses (ALS), against the targets for the whole ``train_brand``
  (<= 20 s, <= 1.5 GB), so the database part knows its remaining budget;
* the curve behind the EASE/ALS threshold: both models at 1M events x 50k customers for
  growing catalogues (EASE's cost grows with items^2 in memory and items^3 in time);
* fold-in (one customer's list from their current signals, model fixed), per customer;
* 10M events x 500k customers x 20k items, and the largest brand that fits in 24 GB,
  extrapolated linearly in events from the 1M and 10M peaks (customers grow with events).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_SECONDS, TARGET_GB = 20.0, 1.5
CURVE_ITEMS = (1000, 2500, 5000, 10000, 20000)
MACHINE_GB = 24.0
CHILD_TIMEOUT = 900


def synthetic(n_events: int, n_users: int, n_items: int, seed: int = 0):
    """(user codes, item codes, 1-5 values) with power-law popularity and activity."""
    rng = np.random.default_rng(seed)
    item_p = 1.0 / np.arange(1, n_items + 1)
    user_p = 1.0 / np.arange(1, n_users + 1) ** 0.5
    users = rng.choice(n_users, n_events, p=user_p / user_p.sum())
    items = rng.permutation(n_items)[rng.choice(n_items, n_events, p=item_p / item_p.sum())]
    values = np.where(rng.random(n_events) < 0.75, rng.integers(4, 6, n_events), 3.0)
    values[rng.random(n_events) < 0.05] = 1.0
    return users, items, values.astype(np.float64)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    """CPU seconds of this process, all threads (less sensitive than wall time to other
    processes on a shared machine)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return float(line.split()[1]) / 1024.0
    return float("nan")


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """One measurement (runs in its own process): the pure pipeline on one synthetic brand."""
    from recommendations.ml import rank, signals, tune

    users, items, values = synthetic(spec["events"], spec["users"], spec["items"])
    shape = (spec["users"], spec["items"])
    base_mb = _current_rss_mb()
    started, cpu_started = time.perf_counter(), _cpu_s()
    data = signals.interactions(users, items, values, shape, weighting="binary")
    del users, items, values
    signals_s = time.perf_counter() - started
    model = rank.fit(data.positive, algorithm=spec["algorithm"])
    fit_s = time.perf_counter() - started - signals_s
    fit_cpu = _cpu_s() - cpu_started
    factors = getattr(model, "user_factors", None)
    picks = uncited = 0
    for chunk in rank.rank(model, data.positive, data.known, user_factors=factors, n=10, k=2):
        personal = chunk.items >= 0
        picks += int(personal.sum())
        uncited += int((personal & (chunk.cited[:, :, 0] < 0)).sum())
    total_s = time.perf_counter() - started
    total_cpu = _cpu_s() - cpu_started
    out = {
        **spec,
        "pairs": int(data.known.nnz),
        "signals_s": signals_s,
        "fit_s": fit_s,
        "rank_s": total_s - fit_s - signals_s,
        "total_s": total_s,
        "fit_cpu": fit_cpu,
        "total_cpu": total_cpu,
        "load": os.getloadavg()[0],
        "base_mb": base_mb,
        "peak_mb": _rss_mb(),
        "picks": picks,
        "uncited": uncited,
    }
    sample = np.random.default_rng(1).choice(shape[0], 50, replace=False)
    timings = []
    for row in sample:
        start = time.perf_counter()
        rank.fold_in(model, data.positive[row : row + 1], data.known[row : row + 1])
        timings.append(time.perf_counter() - start)
    out["fold_in_ms"] = 1000 * float(np.median(timings))
    if spec.get("tune"):
        start = time.perf_counter()
        stamps = np.random.default_rng(2).random(data.known.nnz)
        coo = data.known.tocoo()
        ratings = np.where(data.positive[coo.row, coo.col].A1 > 0, 5.0, 3.0)
        choice = tune.tune_brand(coo.row, coo.col, ratings, stamps, shape)
        out["tune_s"] = time.perf_counter() - start
        out["tuned"] = [choice.algorithm, choice.reg]
    return out


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """Run :func:`child` in a fresh interpreter and return its figures (or the failure)."""
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--child", json.dumps(spec)],
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired:
        return {**spec, "error": f"over {CHILD_TIMEOUT}s"}
    if done.returncode != 0:
        return {**spec, "error": (done.stderr.strip().splitlines() or ["?"])[-1][:80]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _line(r: dict[str, Any]) -> str:
    label = f"{r['algorithm']:<4} {r['events']:>10,} ev {r['users']:>8,} cu {r['items']:>6,} it"
    if "error" in r:
        return f"{label}  failed: {r['error']}"
    gb = r["peak_mb"] / 1024
    return (
        f"{label}  wall: fit {r['fit_s']:5.1f}s rank+why {r['rank_s']:5.1f}s total "
        f"{r['total_s']:5.1f}s  cpu: fit {r['fit_cpu']:5.1f}s total {r['total_cpu']:5.1f}s  "
        f"peak {gb:5.2f} GB (data {r['base_mb'] / 1024:4.2f})  fold-in {r['fold_in_ms']:5.1f} ms"
        f"  uncited {r['uncited']}  load {r['load']:.1f}"
    )


def main() -> None:
    from recommendations.ml import rank

    brand = {"events": 1_000_000, "users": 50_000, "items": 20_000}
    print(
        "Target brand, pure core, model chosen by catalogue size "
        f"({rank.choose(brand['items'])}, EASE up to {rank.EASE_MAX_ITEMS} items):"
    )
    target = measure({**brand, "algorithm": rank.choose(brand["items"]), "tune": True})
    print("  " + _line(target))
    if "error" not in target:
        ok_t, ok_m = target["total_s"] <= TARGET_SECONDS, target["peak_mb"] / 1024 <= TARGET_GB
        print(
            f"  against the train_brand targets: {target['total_s']:.1f} s of {TARGET_SECONDS:g}"
            f" ({'ok' if ok_t else 'MISS'}), {target['peak_mb'] / 1024:.2f} GB of {TARGET_GB:g}"
            f" ({'ok' if ok_m else 'MISS'}); left for extraction + write: "
            f"{TARGET_SECONDS - target['total_s']:.1f} s"
        )
        print(
            f"  per-brand tuning (validation = newest 20%): {target['tune_s']:.1f} s, chose "
            f"{target['tuned'][0]} reg={target['tuned'][1]:g}"
        )

    print("\nEASE vs ALS by catalogue size (1M events x 50k customers):")
    curve = []
    for n_items in CURVE_ITEMS:
        for algorithm in ("ease", "als"):
            result = measure(
                {"events": 1_000_000, "users": 50_000, "items": n_items, "algorithm": algorithm}
            )
            curve.append(result)
            print("  " + _line(result), flush=True)
    _ratios(curve)

    print("\n10x brand (10M events x 500k customers x 20k items, ALS):")
    big = measure({"events": 10_000_000, "users": 500_000, "items": 20_000, "algorithm": "als"})
    print("  " + _line(big))
    _largest(target, big)


def _ratios(curve: list[dict[str, Any]]) -> None:
    by = {(r["algorithm"], r["items"]): r for r in curve if "error" not in r}
    print("  EASE / ALS total time and peak memory at the same size:")
    for n_items in CURVE_ITEMS:
        e, a = by.get(("ease", n_items)), by.get(("als", n_items))
        if e and a:
            print(
                f"    {n_items:>6,} items: time {e['total_s'] / a['total_s']:5.2f}x, "
                f"memory {e['peak_mb'] / a['peak_mb']:5.2f}x"
            )


def _largest(small: dict[str, Any], big: dict[str, Any]) -> None:
    if "error" in small or "error" in big:
        print("  largest brand in 24 GB: not computed (a run failed)")
        return
    per_event = (big["peak_mb"] - small["peak_mb"]) / (big["events"] - small["events"])
    fixed = small["peak_mb"] - per_event * small["events"]
    events = (MACHINE_GB * 1024 - fixed) / per_event
    cpu_minutes = big["total_cpu"] * events / big["events"] / 60
    print(
        f"  memory: {fixed:.0f} MB + {per_event * 1e6:.0f} MB per million events "
        f"(20 events per customer, 20k items)"
    )
    print(
        f"  largest brand in {MACHINE_GB:g} GB: ~{events / 1e6:.0f}M events "
        f"(~{events / 20 / 1e6:.1f}M customers); pure core ~{cpu_minutes:.0f} CPU-minutes at "
        "the 10M rate (about half that in wall time on 2 idle cores)"
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child(json.loads(sys.argv[2]))))
    else:
        main()
