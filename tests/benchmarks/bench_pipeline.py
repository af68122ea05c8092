"""End-to-end recommendation pipeline on MovieLens 100k loaded through the ledger.

Run ``.venv/bin/python tests/benchmarks/run.py bench_pipeline``. It builds a throwaway test
database (never the dev database), loads ML-100k as rating events of a demo brand (bulk,
through ``recommendations.services.movielens_load``) and then measures, in one run:

* P3: ``services.train_brand`` (database -> trainset -> fit -> top-N for every customer ->
  explanations -> bulk write -> artefact) against a bare Surprise ``SVD.fit`` on the same
  ratings (target <= 1.5x).
* Q1: 5-fold RMSE/MAE of our SVD (and item-item KNNBaseline) on the ratings as the ledger
  extraction returns them, next to Surprise's published figures (target: within 0.005).
* Q2: precision@10 / NDCG@10 on a global time split (newest 20% of ratings are the test set,
  relevant = rated >= 4, warm users only), for SVD, popularity and a few honest variants.
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


def speed_rows(brand_id, data) -> list[dict]:
    from surprise import SVD

    from recommendations import ml, services

    trainset = ml.build_trainset(data.users, data.items, data.ratings)
    bare, _ = _best(lambda: SVD(random_state=0).fit(trainset))
    ours, run = _best(lambda: services.train_brand(brand_id=brand_id, reason="bench"))
    return [
        _row("bare surprise SVD.fit on the same ratings (s)", bare),
        _row("train_brand: db -> fit -> top-10 all -> why -> write (s)", ours),
        _row("  P3 ratio train_brand / bare fit", ours / bare, None, "<= 1.5", ours / bare <= 1.5),
        _row(f"  customers x items scored: {run.n_users} x {run.n_items}", run.n_ratings),
    ]


def accuracy_rows(data) -> list[dict]:
    from recommendations import ml

    rows = []
    for label, key, factory in [
        ("SVD", "SVD", ml.fit_svd),
        ("KNNBaseline item-item pearson_baseline", "KNNBaseline", ml.fit_knn_baseline),
    ]:
        start = time.perf_counter()
        scores = ml.cross_validate(factory, data.users, data.items, data.ratings, folds=5)
        seconds = time.perf_counter() - start
        for metric, published in zip(("rmse", "mae"), PUBLISHED[key], strict=True):
            ok = abs(scores[metric] - published) <= Q1_TOLERANCE if metric == "rmse" else None
            rows.append(
                _row(
                    f"Q1 {label} 5-fold {metric.upper()} on ledger ratings ({seconds:.0f}s)",
                    scores[metric],
                    published,
                    f"within {Q1_TOLERANCE}" if metric == "rmse" else "",
                    ok,
                )
            )
    return rows


def ranking_rows(data) -> list[dict]:
    """Q2 on a global time split, with the variants a reviewer would ask about."""
    from recommendations import ml

    train, test = ml.time_split(data.users, data.items, data.ratings, data.stamps)
    trainset = ml.build_trainset(*train)
    known = ml.known_items_mask(trainset)
    raw_items = np.array([trainset.to_raw_iid(i) for i in range(trainset.n_items)])
    relevant = ml.relevant_items(test.users.astype(str), test.items.astype(str), test.ratings)
    warm = {u: h for u, h in relevant.items() if u in trainset._raw2inner_id_users}
    uids = np.array([trainset.to_inner_uid(u) for u in warm])

    popular = ml.popular_items(train.items.astype(str), train.ratings)
    rank_of = {item: r for r, item in enumerate(popular.tolist())}
    counts = np.array([len(trainset.ir[i]) for i in range(trainset.n_items)], dtype=float)
    pop_scores = np.tile(-np.array([rank_of[i] for i in raw_items], dtype=float), (len(uids), 1))

    svd = ml.fit_svd(trainset)
    svd_scores = ml.score_all_svd(svd, trainset, uids, clip=False)

    def zscore(m):
        return (m - m.mean(axis=1, keepdims=True)) / (m.std(axis=1, keepdims=True) + 1e-9)

    blend = zscore(svd_scores) + zscore(np.tile(np.log1p(counts), (len(uids), 1)))
    restricted = np.where(counts >= np.sort(counts)[-300], svd_scores, -np.inf)

    knn = ml.fit_knn_baseline(trainset)
    knn_scores = np.array(
        [
            [knn.predict(trainset.to_raw_uid(u), raw_items[i]).est for i in range(len(raw_items))]
            for u in uids[:150]
        ]
    )

    def evaluate(scores, users):
        best, _ = ml.top_n(scores, known[users], TOP_K)
        recs = {
            trainset.to_raw_uid(u): raw_items[row[row >= 0]].tolist()
            for u, row in zip(users, best, strict=True)
        }
        rel = {u: warm[u] for u in recs}
        return ml.precision_at_k(recs, rel, TOP_K), ml.ndcg_at_k(recs, rel, TOP_K)

    results = {
        "popularity": evaluate(pop_scores, uids),
        "SVD (rank by predicted rating)": evaluate(svd_scores, uids),
        "SVD + popularity blend (z-scores, weight 1)": evaluate(blend, uids),
        "SVD within the 300 most-rated items": evaluate(restricted, uids),
    }
    knn_pop = evaluate(pop_scores[:150], uids[:150])
    knn_res = evaluate(knn_scores, uids[:150])
    base_p, base_n = results["popularity"]
    label = f"time split, {len(uids)} warm users"
    rows = []
    for name, (p, n) in results.items():
        beats = None if name == "popularity" else (p > base_p and n > base_n)
        rows.append(_row(f"Q2 {name} P@10 ({label})", p, None, "> popularity", beats))
        rows.append(_row(f"Q2 {name} NDCG@10", n, None, "> popularity", beats))
    rows.append(_row("Q2 popularity P@10 (first 150 warm users)", knn_pop[0]))
    rows.append(
        _row(
            "Q2 KNNBaseline item-item P@10 (same 150 users)",
            knn_res[0],
            None,
            "> popularity",
            knn_res[0] > knn_pop[0],
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
