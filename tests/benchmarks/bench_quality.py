"""Honest top-N quality of the pure core (``recommendations.ml``) on MovieLens 100k.

Run ``.venv/bin/python tests/benchmarks/run.py bench_quality`` (a few minutes). The data is
the copy of ML-100k shipped in the ``recbole`` package (see ``bench_ml.py``).

Three splits (``ml.evaluate``): (a) global time, newest 20% of ratings; (b) per-user
random 80/20; (c) each user's newest 5. Relevant = test items rated above neutral (4-5
stars); a user counts when they have training ratings and one relevant test item. For each
split, the model (EASE or ALS) and its regularisation are chosen on a *validation cut of
the training rows* (the split's own rule applied again to them), never on the test rows;
the chosen model is then refitted on all training rows and scored on the test rows.

Rows: popularity (most rated first), the previous pipeline (dense EASE as the product ran
it: every rating >= 3, the constant reg 200), the previous large-catalogue model (Surprise
SVD ranked by predicted rating), and the new core's EASE and ALS (positive signals only:
rating > 3). Differences are paired over the same users with a bootstrap 95% interval
(2,000 resamples); "beats" means the interval excludes 0. The cold-start slice is the
users with at most ``COLD`` training ratings.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from recommendations.ml import als, evaluate, rank, signals, tune  # noqa: E402
from tests.benchmarks import evaluation  # noqa: E402
from tests.benchmarks.bench_ml import load_ml100k  # noqa: E402

COLD = 20
METRICS = ("precision", "recall", "ndcg")
LABELS = {"precision": "P@10", "recall": "R@20", "ndcg": "NDCG@10"}


class Data:
    def __init__(self) -> None:
        users, items, self.ratings, self.stamps = load_ml100k()
        self.users = np.unique(users, return_inverse=True)[1].reshape(-1)
        self.items = np.unique(items, return_inverse=True)[1].reshape(-1)
        self.shape = (int(self.users.max()) + 1, int(self.items.max()) + 1)

    def holdout(self, rows: np.ndarray, test: np.ndarray) -> evaluate.Holdout:
        return evaluate.holdout(
            self.users[rows], self.items[rows], self.ratings[rows], test, self.shape
        )


Rule = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (user codes, stamps) -> test mask
SPLITS: dict[str, Rule] = {
    "(a) global time, newest 20%": lambda users, stamps: evaluate.global_time(stamps),
    "(b) per-user random 80/20": lambda users, stamps: evaluation.per_user_random(users),
    "(c) leave last 5 per user": lambda users, stamps: evaluation.leave_last(users, stamps),
}


#: The product's ranking before the sparse core: EASE on every rating >= 3, constant reg.
PREVIOUS_REG, PREVIOUS_MIN_RATING = 200.0, 3.0


def previous_lists(data: Data, train: np.ndarray, split: evaluate.Holdout) -> np.ndarray:
    """The previous product ranking (kept here as a baseline, its code is gone from the
    product): dense EASE on ratings >= 3, reg 200, every known item excluded."""
    keep = train[data.ratings[train] >= PREVIOUS_MIN_RATING]
    positive = signals.coo_to_csr(
        data.users[keep], data.items[keep], np.ones(len(keep)), data.shape
    ).toarray()
    gram = positive.T.astype(np.float64) @ positive + PREVIOUS_REG * np.eye(data.shape[1])
    p = np.linalg.inv(gram)
    weights = -p / np.diag(p)[None, :]
    np.fill_diagonal(weights, 0.0)
    scores = positive[split.users] @ weights
    known = split.train.known[split.users].toarray().astype(bool)
    lists, _ = evaluation.top_n(scores, known, evaluate.DEPTH)
    return lists


def svd_lists(data: Data, train: np.ndarray, split: evaluate.Holdout) -> np.ndarray:
    """The previous large-catalogue model: Surprise SVD ranked by predicted rating."""
    trainset = evaluation.build_trainset(data.users[train], data.items[train], data.ratings[train])
    algo = evaluation.fit_svd(trainset)
    inner = np.array([trainset.to_inner_uid(str(u)) for u in split.users])
    columns = np.array([int(trainset.to_raw_iid(i)) for i in range(trainset.n_items)])
    scores = np.full((len(split.users), data.shape[1]), -np.inf)
    scores[:, columns] = evaluation.score_all_svd(algo, trainset, inner, clip=False)
    known = split.train.known[split.users].toarray().astype(bool)
    lists, _ = evaluation.top_n(scores, known, evaluate.DEPTH)
    return lists


def run_split(data: Data, name: str, rule: Rule) -> dict[str, object]:
    test = rule(data.users, data.stamps)
    train = np.flatnonzero(~test)
    cut = rule(data.users[train], data.stamps[train])
    choice = tune.choose(data.holdout(train, cut))
    regs = {
        algo: max(row, key=lambda r, row=row: (row[r], -r)) for algo, row in choice.table.items()
    }
    split = data.holdout(np.arange(len(test)), test)
    ease_model = rank.fit(split.train.positive, algorithm="ease", ease_reg=regs["ease"])
    als_model = als.fit(split.train.positive, als.Params(reg=regs["als"]))
    lists = {
        "popularity": evaluate.popularity_lists(split),
        f"previous: EASE >=3, reg {PREVIOUS_REG:g}": previous_lists(data, train, split),
        "previous >5000 items: SVD": svd_lists(data, train, split),
        f"EASE reg {regs['ease']:g}": evaluate.model_lists(ease_model, split),
        f"ALS reg {regs['als']:g}": evaluate.model_lists(als_model, split),
    }
    scores = {label: evaluation.score(top, split) for label, top in lists.items()}
    chosen = next(k for k in scores if k.lower().startswith(choice.algorithm))
    return {"name": name, "split": split, "choice": choice, "scores": scores, "chosen": chosen}


def _ci(a: evaluate.PerUser, b: evaluate.PerUser, mask: np.ndarray | None = None) -> list:
    pick = slice(None) if mask is None else mask
    return [evaluation.paired_bootstrap(getattr(a, m)[pick], getattr(b, m)[pick]) for m in METRICS]


def _fmt(interval: evaluation.Interval) -> str:
    return f"{interval.mean:+.4f} [{interval.low:+.4f}, {interval.high:+.4f}]"


def report(result: dict) -> bool:
    split, scores, choice = result["split"], result["scores"], result["choice"]
    chosen = result["chosen"]
    print(
        f"\n{result['name']}: {len(split.users)} users evaluated; chosen on the validation cut: "
        f"{choice.algorithm.upper()} (validation users {choice.validation_users})"
    )
    for algo, row in choice.table.items():
        cells = "  ".join(f"{reg:g}: {ndcg:.4f}" for reg, ndcg in row.items())
        print(f"  validation NDCG@10 {algo:<4} by reg  {cells}")
    width = max(len(k) for k in scores) + 10
    print(f"  {'model':<{width}}  {'P@10':>7}  {'R@20':>7}  {'NDCG@10':>7}  coverage")
    for label, s in scores.items():
        mark = " (chosen)" if label == chosen else ""
        print(
            f"  {label + mark:<{width}}  {s.precision.mean():7.4f}  {s.recall.mean():7.4f}  "
            f"{s.ndcg.mean():7.4f}  {s.coverage:8.3f}"
        )
    pop, prev = scores["popularity"], next(v for k, v in scores.items() if k.startswith("prev"))
    ease_s = next(v for k, v in scores.items() if k.startswith("EASE"))
    als_s = next(v for k, v in scores.items() if k.startswith("ALS"))
    print(
        "  paired differences, mean [95% CI]:      "
        + "   ".join(f"{LABELS[m]:<26}" for m in METRICS)
    )
    verdicts = {}
    for label, a, b in (
        ("chosen - popularity", scores[chosen], pop),
        ("chosen - previous", scores[chosen], prev),
        ("EASE - popularity", ease_s, pop),
        ("ALS - popularity", als_s, pop),
        ("ALS - EASE", als_s, ease_s),
    ):
        intervals = _ci(a, b)
        verdicts[label] = all(i.low > 0 for i in intervals)
        print(f"  {label:<38} " + "   ".join(_fmt(i) for i in intervals))
    cold = split.train_counts <= COLD
    if cold.sum() >= 5:
        intervals = _ci(scores[chosen], pop, cold)
        print(
            f"  cold start (<= {COLD} training ratings, {int(cold.sum())} users): NDCG@10 chosen "
            f"{scores[chosen].ndcg[cold].mean():.4f}, popularity {pop.ndcg[cold].mean():.4f}, "
            f"difference {_fmt(intervals[2])}"
        )
    else:
        print(f"  cold start (<= {COLD} training ratings): {int(cold.sum())} users, too few")
    for label in ("EASE - popularity", "ALS - popularity", "chosen - popularity"):
        print(
            f"  {label} on all three metrics, CI excluding 0: {'yes' if verdicts[label] else 'NO'}"
        )
    return verdicts["EASE - popularity"] and verdicts["ALS - popularity"]


def main() -> None:
    data = Data()
    results = [run_split(data, name, rule) for name, rule in SPLITS.items()]
    beats = [report(result) for result in results]
    print(
        f"\nQ2 verdict: EASE and ALS each beat popularity on P@10, R@20 and NDCG@10 with a 95% "
        f"CI excluding 0 on all three splits: {'yes' if all(beats) else 'NO'} "
        f"({sum(beats)}/3 splits)"
    )


if __name__ == "__main__":
    main()
