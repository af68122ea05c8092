"""End-to-end recommendation pipeline on MovieLens 100k loaded through the ledger.

Run ``.venv/bin/python tests/benchmarks/run.py bench_pipeline``. It builds a throwaway test
database (never the dev database), loads ML-100k as rating events of a demo brand (bulk,
through ``recommendations.services.movielens_load``) and then measures, in one run:

* P3: ``services.train_brand`` (database -> matrix -> fit of the product's ranking model ->
  top-N for every customer -> explanations -> one-transaction write with audit rows ->
  artefact) against a bare Surprise ``SVD.fit`` on the same ratings with the same
  hyperparameters (target <= 1.5x); best of 3 each, interleaved, every run printed.
* Q1: 5-fold RMSE/MAE of our SVD (and item-item KNNBaseline) on the ratings as the ledger
  extraction returns them, next to Surprise's published figures (target: within 0.005).
* Q2: precision@10 / NDCG@10 on a global time split (newest 20% of ratings are the test set,
  relevant = rated >= 4, warm users only) of the chosen ranking model (EASE, its one knob
  picked on a validation split cut from the training period only) against popularity, and
  of a few SVD variants for reference.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

TOP_K = 10
PUBLISHED = {"SVD": (0.934, 0.737), "KNNBaseline": (0.931, 0.733)}
Q1_TOLERANCE = 0.005


def _row(check, ours, reference=None, target="", ok=None):
    return {"check": check, "ours": ours, "reference": reference, "target": target, "ok": ok}


def _best(func, repeat=2):
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - start)
    return best, out


def _throwaway_db():
    import django
    from django.db import connections
    from django.test.utils import setup_databases

    django.setup()
    from django.conf import settings

    conn = connections["default"]
    test = conn.settings_dict.setdefault("TEST", {})
    if conn.vendor == "sqlite":
        test["NAME"] = str(Path(settings.VAR_DIR) / "bench_pipeline.sqlite3")
    else:
        test["NAME"] = f"{conn.settings_dict['NAME']}_bench_pipeline"
    return setup_databases(verbosity=0, interactive=False)


def speed_rows(brand_id, data, repeat: int = 3) -> list[dict]:
    """P3: the product's retrain against a bare Surprise SVD.fit (same hyperparameters as
    services.SVD_PARAMS), both the best of ``repeat`` runs in this process."""
    from surprise import SVD

    from recommendations import ml, services
    from recommendations.models import TrainingRun

    trainset = ml.build_trainset(data.users, data.items, data.ratings)
    bare_runs, ours_runs = [], []
    for _ in range(repeat):  # interleaved, so load from other processes hits both alike
        start = time.perf_counter()
        SVD(random_state=0, **services.SVD_PARAMS).fit(trainset)
        bare_runs.append(time.perf_counter() - start)
        start = time.perf_counter()
        run = services.train_brand(brand_id=brand_id, reason="bench")
        ours_runs.append(time.perf_counter() - start)
    bare, ours = min(bare_runs), min(ours_runs)
    positive, _ = ml.interaction_matrices(
        np.unique(data.users, return_inverse=True)[1],
        np.unique(data.items, return_inverse=True)[1],
        data.ratings,
        (run.n_users, run.n_items),
    )
    ease_fit, _ = _best(lambda: ml.fit_ease(positive), repeat=repeat)
    written = TrainingRun.objects.get(pk=run.pk)
    return [
        _row("bare surprise SVD.fit on the same ratings, best of 3 (s)", bare),
        _row("  runs: " + " / ".join(f"{t:.2f}" for t in bare_runs), bare),
        _row(f"train_brand ({written.algorithm}): db -> fit -> top-10 -> why -> write (s)", ours),
        _row("  runs: " + " / ".join(f"{t:.2f}" for t in ours_runs), ours),
        _row("  of which EASE fit alone (s)", ease_fit),
        _row("  P3 ratio train_brand / bare fit", ours / bare, None, "<= 1.5", ours / bare <= 1.5),
        _row(f"  customers x items ranked: {run.n_users} x {run.n_items}; ratings", run.n_ratings),
    ]


def accuracy_rows(data) -> list[dict]:
    from surprise import KNNBaseline

    from recommendations import ml

    rows = []
    # Surprise's published KNNBaseline figure is for its default configuration (user-based,
    # MSD); Candor's item-item pearson_baseline (used for explanations) is a different model,
    # so it is shown for information, not held to that figure.
    for label, key, factory, compared in [
        ("SVD", "SVD", ml.fit_svd, True),
        (
            "KNNBaseline() Surprise default (user msd)",
            "KNNBaseline",
            lambda ts: KNNBaseline(verbose=False).fit(ts),
            True,
        ),
        (
            "(info) KNNBaseline item-item pearson_baseline",
            "KNNBaseline",
            ml.fit_knn_baseline,
            False,
        ),
    ]:
        start = time.perf_counter()
        scores = ml.cross_validate(factory, data.users, data.items, data.ratings, folds=5)
        seconds = time.perf_counter() - start
        for metric, published in zip(("rmse", "mae"), PUBLISHED[key], strict=True):
            checked = compared and metric == "rmse"
            ok = abs(scores[metric] - published) <= Q1_TOLERANCE if checked else None
            rows.append(
                _row(
                    f"Q1 {label} 5-fold {metric.upper()} on ledger ratings ({seconds:.0f}s)",
                    scores[metric],
                    published,
                    f"within {Q1_TOLERANCE}" if checked else "",
                    ok,
                )
            )
    return rows


def ranking_rows(data) -> list[dict]:
    """Q2 on a global time split, the chosen model first, then the variants a reviewer
    would ask about (informational: they are not what the product ranks with)."""
    from recommendations import ml

    train, test = ml.time_split(data.users, data.items, data.ratings, data.stamps)
    cut = np.sort(data.stamps)[len(data.stamps) - len(test.users)]
    train_stamps = data.stamps[data.stamps < cut]
    # The chosen model's only knob, picked on the newest 20% of the TRAINING period.
    reg, table = ml.choose_ease_reg(train, train_stamps)
    split = ml.holdout(train, test)
    base_p, base_n = ml.holdout_metrics(split, ml.popularity_scores(split))
    ease_p, ease_n = ml.holdout_metrics(split, ml.ease_scores(split, reg=reg))
    label = f"time split, {len(split.rows)} warm users"
    beats = ease_p > base_p and ease_n > base_n
    rows = [
        _row(f"Q2 popularity P@10 ({label})", base_p),
        _row("Q2 popularity NDCG@10", base_n),
        _row(f"Q2 chosen: EASE reg={reg:g} P@10", ease_p, None, "> popularity", ease_p > base_p),
        _row(f"Q2 chosen: EASE reg={reg:g} NDCG@10", ease_n, None, "> popularity", ease_n > base_n),
        _row(
            f"  reg chosen on validation (training period only); product default {ml.EASE_REG:g}",
            reg,
            None,
            "== default",
            reg == ml.EASE_REG,
        ),
    ]
    for r, (p, n) in table.items():
        rows.append(_row(f"  validation NDCG@10 for reg={r:g} (P@10 {p:.4f})", n))

    # Variants, scored on the same split (SVD needs a Surprise trainset: map its ids).
    trainset = ml.build_trainset(*train)
    inner = np.array([trainset.to_inner_iid(str(i)) for i in split.item_ids])
    uids = np.array([trainset.to_inner_uid(str(u)) for u in split.user_ids[split.rows]])
    svd_scores = ml.score_all_svd(ml.fit_svd(trainset), trainset, uids, clip=False)[:, inner]
    counts = split.known.sum(axis=0).astype(float)

    def zscore(m):
        return (m - m.mean(axis=1, keepdims=True)) / (m.std(axis=1, keepdims=True) + 1e-9)

    blend = zscore(svd_scores) + zscore(np.tile(np.log1p(counts), (len(uids), 1)))
    restricted = np.where(counts >= np.sort(counts)[-300], svd_scores, -np.inf)
    variants = {
        "SVD (rank by predicted rating)": svd_scores,
        "SVD + popularity blend (z-scores, weight 1)": blend,
        "SVD within the 300 most-rated items": restricted,
    }
    for name, scores in variants.items():
        p, n = ml.holdout_metrics(split, scores)
        rows.append(_row(f"Q2 (info) {name} P@10", p, None, "not chosen"))
        rows.append(_row(f"Q2 (info) {name} NDCG@10", n, None, "not chosen"))
    rows.append(
        _row(
            "Q2 verdict: chosen model beats popularity on P@10 AND NDCG@10",
            float(beats),
            None,
            "1",
            beats,
        )
    )
    return rows


def format_table(rows) -> str:
    width = max(len(r["check"]) for r in rows)
    lines = [f"{'check':<{width}}  {'ours':>9}  {'published':>9}  {'target':<14}  verdict"]
    lines.append("-" * len(lines[0]))
    for r in rows:
        ref = "" if r["reference"] is None else f"{r['reference']:.3f}"
        verdict = "-" if r["ok"] is None else ("ok" if r["ok"] else "MISS")
        lines.append(
            f"{r['check']:<{width}}  {r['ours']:>9.4f}  {ref:>9}  {r['target']:<14}  {verdict}"
        )
    return "\n".join(lines)


def main() -> None:
    old = _throwaway_db()
    try:
        from recommendations import selectors, services
        from recommendations.management.commands.load_movielens import ml100k_dir

        load_time, loaded = _best(lambda: services.movielens_load(directory=ml100k_dir()), repeat=1)
        start = time.perf_counter()
        data = selectors.training_data(brand_id=loaded["brand_id"])
        extract_time = time.perf_counter() - start
        rows = [
            _row(f"load ML-100k into the ledger, {loaded['events_added']} events (s)", load_time),
            _row(f"extract allowed ratings, {data.n_ratings} pairs (s)", extract_time),
        ]
        rows += speed_rows(loaded["brand_id"], data)
        rows += accuracy_rows(data)
        rows += ranking_rows(data)
        print(format_table(rows))
    finally:
        from django.test.utils import teardown_databases

        teardown_databases(old, verbosity=0)


if __name__ == "__main__":
    main()
