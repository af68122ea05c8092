"""The reverse relations a deletion follows, typed (shared by erasure, the retention sweep
and the deletion preview)."""

from __future__ import annotations

from typing import Any, NamedTuple, cast

from django.db import models
from django.db.models import ForeignObjectRel
from django.db.models.deletion import get_candidate_relations_to_delete


class Relation(NamedTuple):
    """A reverse relation Django's deletion collector follows: rows of `model` whose
    `field` points at the deleted rows, and what their foreign key does then."""

    field: str
    on_delete: Any
    model: type[models.Model]


def relations_to_delete(model: type[models.Model]) -> list[Relation]:
    # The stubs type these as fields; they are reverse relations (ForeignObjectRel).
    rels = cast(list[ForeignObjectRel], get_candidate_relations_to_delete(model._meta))
    return [
        Relation(rel.field.name, rel.field.remote_field.on_delete, rel.related_model)
        for rel in rels
        if not isinstance(rel.related_model, str)
    ]


def cascading_relations(model: type[models.Model]) -> list[Relation]:
    return [rel for rel in relations_to_delete(model) if rel.on_delete is models.CASCADE]
