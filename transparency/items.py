"""The items of one kind, as My data lists them: each row in words (its kind's declared
summary), with its brand, collection time, switch and end of retention."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.models import Customer

from .access_log import ITEMS_PER_PAGE
from .registry import DataKind


@dataclass
class Item:
    pk: int
    summary: str
    collected_at: datetime | None
    brand: str
    in_use: bool | None
    expires_at: datetime | None
    # Choice history: [{"brand", "trained_at"}] of the models retrained without it.
    retrains: list[dict] = field(default_factory=list)

    @property
    def name(self) -> str:
        """What the item is, for accessible names: "Viewed Trail Runner shoes, 28 Nov"."""
        if self.collected_at is None:
            return self.summary
        when = timezone.localtime(self.collected_at)
        return f"{self.summary}, {when.day} {when:%b}"

    @property
    def days_left(self) -> int | None:
        if self.expires_at is None:
            return None
        return max(0, math.ceil((self.expires_at - timezone.now()).total_seconds() / 86400))


def kind_items_queryset(
    *, customer: Customer, kind: DataKind, brand_id: int | None = None
) -> QuerySet[Any]:
    qs = kind.rows_for(customer)
    if brand_id is not None and kind.brand_field:
        qs = qs.filter(**{kind.brand_field: brand_id})
    annotations: dict[str, Any] = {}
    if kind.created_field:
        annotations["_collected"] = F(kind.created_field)
    if kind.brand_field:
        annotations["_brand_name"] = F(f"{kind.brand_field}__name")
        annotations["_brand_sensitivity"] = F(f"{kind.brand_field}__sensitivity")
    if kind.summary.related:
        qs = qs.select_related(*kind.summary.related)
    return qs.annotate(**annotations).order_by("-pk")


def item_from(kind: DataKind, obj: Any) -> Item:
    collected = getattr(obj, "_collected", None)
    sensitivity = getattr(obj, "_brand_sensitivity", None)
    days = kind.retention_for(sensitivity)
    expires = collected + timedelta(days=days) if collected and days is not None else None
    return Item(
        pk=obj.pk,
        summary=kind.summary.text(obj),
        collected_at=collected,
        brand=getattr(obj, "_brand_name", None) or "",
        in_use=getattr(obj, "in_use", None),
        expires_at=expires,
    )


def kind_items(
    *, customer: Customer, kind: DataKind, page: int | str = 1, brand_id: int | None = None
) -> tuple[Page, list[Item]]:
    paginator = Paginator(
        kind_items_queryset(customer=customer, kind=kind, brand_id=brand_id), ITEMS_PER_PAGE
    )
    page_obj = paginator.get_page(page)
    items = [item_from(kind, obj) for obj in page_obj.object_list]
    if kind.name == "consent_history":
        from .retrains import choice_notes

        notes = choice_notes(choice_ids=[item.pk for item in items])
        for item in items:
            item.retrains = notes.get(item.pk, [])
    return page_obj, items


def kind_item(*, customer: Customer, kind: DataKind, pk: int) -> Item:
    """One item, scoped to its owner (raises DoesNotExist for anyone else's)."""
    return item_from(kind, kind_items_queryset(customer=customer, kind=kind).get(pk=pk))


def kind_item_page(*, customer: Customer, kind: DataKind, pk: int) -> int | None:
    """The page of the kind's list (newest first) holding this point; None if not theirs."""
    rows = kind.rows_for(customer)
    if not rows.filter(pk=pk).exists():
        return None
    return rows.filter(pk__gt=pk).count() // ITEMS_PER_PAGE + 1
