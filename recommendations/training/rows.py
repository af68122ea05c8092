"""Result rows to write, column by column (what ranking produces and the writer stores)."""

from __future__ import annotations

from collections.abc import Iterable


class Recs:
    """Result rows to write, column by column: plain values (no model instance or tuple per
    row), explanations already as JSON text (see ``TrainingData.explanations``)."""

    FIELDS = ("customer_ids", "product_ids", "ranks", "scores", "popular", "explanations")

    def __init__(
        self,
        customer_ids: Iterable[int] = (),
        product_ids: Iterable[int] = (),
        ranks: Iterable[int] = (),
        scores: Iterable[float] = (),
        popular: Iterable[bool] = (),
        explanations: Iterable[str] = (),
    ) -> None:
        self.customer_ids: list[int] = list(customer_ids)
        self.product_ids: list[int] = list(product_ids)
        self.ranks: list[int] = list(ranks)
        self.scores: list[float] = list(scores)
        self.popular: list[bool] = list(popular)
        self.explanations: list[str] = list(explanations)

    @classmethod
    def joined(cls, chunks: Iterable[Recs]) -> Recs:
        """One Recs of every chunk's rows, in order."""
        out = cls()
        for chunk in chunks:
            out.extend(chunk)
        return out

    def extend(self, other: Recs) -> None:
        for name in self.FIELDS:
            getattr(self, name).extend(getattr(other, name))

    def __len__(self) -> int:
        return len(self.customer_ids)
