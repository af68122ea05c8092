"""The explanations stored with each recommendation, written as JSON text by hand.

Training writes hundreds of thousands of explanations; building dicts and calling
``json.dumps`` per explanation was the slowest part of writing them. The text here is
exactly ``json.dumps(entries, ensure_ascii=False, separators=SEPARATORS)`` (tests compare
the two: UTF-8, not ``\\u`` escapes, which COPY would have to escape again; no spaces,
which were 9% of what a large brand's retrain sends the database), built per distinct
cited pair and joined once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

#: Own points cited per (customer, product) pair, newest first.
MAX_POINTS_PER_PAIR = 5
#: JSON without spaces, as every explanation is written (``json.dumps(separators=...)``).
SEPARATORS = (",", ":")

if TYPE_CHECKING:  # the domain object calls this writer: a type only, no import cycle
    from .data import TrainingData


def explanations_json(data: TrainingData, owners, customer_ids, product_ids, n: int) -> list[str]:
    """JSON text of ``n`` explanations, ready to store (see ``TrainingData.explanations``).

    Longer than 50 lines because it is one vectorised pass: the point selection, the
    entries' text and the join per explanation share index arrays that splitting would
    only pass around.
    """

    owners = np.asarray(owners, dtype=np.intp)
    if len(owners) == 0 or len(data.point_pairs) == 0:
        return ["[]"] * n
    # A customer's strongest items explain several of their picks: each distinct pair's
    # entries are built once.
    pairs, cite_pair = np.unique(data.pair_of(customer_ids, product_ids), return_inverse=True)
    # Only points in the product's favour are reasons (a 2-star rating of a pair that is
    # positive overall, say because it was bought later, is not cited); index -1 is a pair
    # not in the data (cites nothing).
    rows, row_pairs = data.cited_order
    lo = np.searchsorted(row_pairs, pairs, side="left")
    hi = np.minimum(np.searchsorted(row_pairs, pairs, side="right"), lo + MAX_POINTS_PER_PAIR)
    lengths = np.where(pairs >= 0, hi - lo, 0)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.intp)
    chosen = rows[np.repeat(lo - offsets, lengths) + np.arange(int(lengths.sum()))]

    days = (data.point_stamps[chosen] * 1e6).astype("datetime64[us]").astype("datetime64[D]")
    pids = data.point_items[chosen].tolist()
    entries = [
        f'{{"kind":"{kind}","pk":{pk},"product_id":{pid},"label":{label},"date":"{day}"}}'
        for kind, pk, pid, label, day in zip(
            data.point_kinds[chosen].tolist(),
            data.point_pks[chosen].tolist(),
            pids,
            data.point_labels(chosen),
            days.astype(str).tolist(),
            strict=True,
        )
    ]
    pair_text = np.full(len(pairs), "", dtype=object)
    if lengths.max() <= 1:  # one point per pair: its entry is the pair's text
        pair_text[lengths > 0] = entries
    else:
        bounds = zip(offsets.tolist(), np.cumsum(lengths).tolist(), strict=True)
        pair_text[:] = [",".join(entries[a:b]) for a, b in bounds]
    # Each explanation joins its cites' texts (cites of pairs without points add none):
    # one join of everything, cut at the explanations' boundaries (NUL never occurs in
    # JSON text), instead of a join per explanation.
    cite_pair = cite_pair.reshape(-1)
    cites = np.flatnonzero(lengths[cite_pair] > 0)
    if len(cites) == 0:
        return ["[]"] * n
    owner = owners[cites]
    texts = pair_text[cite_pair[cites]].tolist()
    glue = np.where(owner[1:] == owner[:-1], ",", "]\0[").tolist()
    woven = [""] * (2 * len(texts) - 1)
    woven[0::2], woven[1::2] = texts, glue
    parts = ("[" + "".join(woven) + "]").split("\0")
    out = np.full(n, "[]", dtype=object)
    out[np.unique(owner)] = parts
    return out.tolist()
