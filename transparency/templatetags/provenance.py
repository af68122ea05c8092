"""Where a data point came from, in the registry's words (one vocabulary on every page).

A row that records its own source (a phone number a brand sent is "received from a partner
brand", a phone number typed in is "provided by you") says so; otherwise its kind's
declared source applies.
"""

from django import template

from transparency import registry

register = template.Library()


def _source(point) -> registry.Source | None:
    value = getattr(point, "source", "")
    if value in registry.Source._value2member_map_:
        return registry.Source(value)
    label = point._meta.label_lower
    kind = next((k for k in registry.all_kinds() if k.model.lower() == label), None)
    return kind.source if kind else None


@register.filter
def source_key(point) -> str:
    source = _source(point)
    return source.value if source else ""


@register.filter
def source_label(point) -> str:
    source = _source(point)
    return source.label if source else ""
