"""Connecting a brand's record of a customer to the signed-in customer (a link's last step).

A brand's ingest creates a record nobody can sign in to (a "shell": a login-less user and
customer, ledger.ingest). Connecting moves everything held under the brand's reference
into the signed-in customer, driven by the registry: every registered kind, each by its
declared `Merge` rule, with a constant number of bulk statements whatever the data size.
Rows unique per customer are merged, never duplicated, and the stricter choice wins (a
purpose or kind switched off on either side stays off); the consent history keeps both
sides' rows plus one row per choice the two records disagreed on. The shell's sign-in
identity (user, customer, credentials) is then removed. Audited in the same transaction;
the brand hears `customer.connected`; a recompute and a brand retrain are asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import transaction
from django.db.models import F, Func, IntegerField, OuterRef, Subquery
from django.utils import timezone

from accounts.append_only import history_rewrite
from accounts.audit import Actor, audit_record
from accounts.consent_history import consent_events_append
from accounts.keys import tombstone_digest
from accounts.links import LinkRefusal, LinkRefused
from accounts.locks import customers_lock
from accounts.models import (
    Brand,
    ConsentEvent,
    Customer,
    CustomerBrand,
    ErasureTombstone,
    KindSetting,
    WebhookEventType,
)
from accounts.services import brand_link_create
from accounts.webhooks import webhook_emit
from recommendations import services as rec_services

from . import registry, selectors
from .erasure import _delete_rows, _model_kinds

User = get_user_model()
CHANNEL = "connect"


class AlreadyConnected(Exception):
    """The reference is already the signed-in customer's: nothing to do."""


@dataclass(frozen=True)
class ConnectTarget:
    brand: Brand
    ref: str
    shell_id: int | None  # None: the brand has sent nothing under this reference yet


def customer_is_shell(customer_id: int) -> bool:
    """A record only a brand's ingest made: no usable password, never signed in."""
    return User.objects.filter(
        customer__pk=customer_id,
        last_login__isnull=True,
        password__startswith=UNUSABLE_PASSWORD_PREFIX,
    ).exists()


def connect_target(*, customer: Customer, brand: Brand, ref: str) -> ConnectTarget:
    """What connecting `ref` would join; LinkRefused or AlreadyConnected when it cannot."""
    link = CustomerBrand.objects.filter(brand=brand, external_ref=ref).first()
    if link is not None:
        if link.customer_id == customer.pk:
            raise AlreadyConnected
        if not customer_is_shell(link.customer_id):
            raise LinkRefused(LinkRefusal.CONNECTED_ELSEWHERE, brand)
    elif ErasureTombstone.objects.filter(
        brand=brand, ref_digest=tombstone_digest(brand.pk, ref)
    ).exists():
        raise LinkRefused(LinkRefusal.ERASED, brand)
    if CustomerBrand.objects.filter(customer=customer, brand=brand).exists():
        raise LinkRefused(LinkRefusal.BRAND_ALREADY_CONNECTED, brand)
    return ConnectTarget(brand=brand, ref=ref, shell_id=link.customer_id if link else None)


def sent_kinds() -> list:
    """The kinds a brand sends about a customer: what the confirmation lists. The record's
    own bookkeeping (its access log, default choices, the link itself) and what Candor
    inferred move too, but are not something the brand sent."""
    return [
        k
        for k in _data_kinds()
        if k.brand_field
        and k.source != registry.Source.INFERRED
        and k.get_model() is not CustomerBrand
    ]


def connect_preview(*, target: ConnectTarget) -> list[tuple[str, int]]:
    """(kind label, rows) of what the brand sent under the reference: one query."""
    if target.shell_id is None:
        return []
    kinds = sent_kinds()
    annotations = {f"n{i}": _count(kind) for i, kind in enumerate(kinds)}
    row = Customer.objects.filter(pk=target.shell_id).annotate(**annotations).values(*annotations)
    counts = row.first() or {}
    return [(k.label, counts[f"n{i}"]) for i, k in enumerate(kinds) if counts.get(f"n{i}")]


def _count(kind) -> Subquery:
    rows = kind.get_model()._default_manager.filter(**{kind.owner or "pk": OuterRef("pk")})
    counted = rows.order_by().annotate(_n=Func(F("pk"), function="COUNT")).values("_n")
    return Subquery(counted, output_field=IntegerField())


@dataclass(frozen=True)
class Connected:
    customer: Customer  # the signed-in customer's record now (its id may have changed)
    counts: dict[str, int]  # {kind: rows of the brand's record now theirs}


@transaction.atomic
def customer_connect(*, customer: Customer, brand: Brand, ref: str) -> Connected:
    """Join what `brand` holds under `ref` to `customer` (see the module docstring)."""
    first = connect_target(customer=customer, brand=brand, ref=ref)
    # Both records, as erasure locks one: every other writer for either waits, and finds
    # a record gone if this one removed it (accounts.locks).
    locked = customers_lock(filter(None, [customer.pk, first.shell_id]), erasing=True)
    target = connect_target(customer=customer, brand=brand, ref=ref)  # again, under the lock
    if customer.pk not in locked or (target.shell_id and target.shell_id not in locked):
        raise LinkRefused(LinkRefusal.CONNECTED_ELSEWHERE, brand)
    before = _choices(customer)
    if target.shell_id is None:
        brand_link_create(customer=customer, brand=brand, ref=ref)
        joined = Connected(customer=customer, counts={"brand_link": 1})
    else:
        shell = Customer.objects.select_related("user").get(pk=target.shell_id)
        theirs = _choices(shell)
        # The records' access logs and histories move across: the documented way past
        # their append-only triggers (accounts.append_only).
        with history_rewrite(reason="connect"):
            joined = _join(shell, customer)
        _record_merge(joined.customer, brand, before, theirs, _choices(joined.customer))
    audit_record(
        actor=Actor.customer(joined.customer),
        customer=joined.customer,
        data_kind="brand_link",
        action="connect",
        object_ref=brand.slug,
        reason=f"connected {brand.name}'s record: {sum(joined.counts.values())} item(s) "
        "now in your account",
    )
    webhook_emit(
        brand_id=brand.pk,
        customer_ref=ref,
        event_type=WebhookEventType.CUSTOMER_CONNECTED,
        data={"connected_at": timezone.now().isoformat().replace("+00:00", "Z")},
    )
    for customer_id in {customer.pk, joined.customer.pk, target.shell_id}:
        if customer_id is not None:
            rec_services.customer_cache_forget(customer_id=customer_id)
    rec_services.customer_recompute_request(customer_id=joined.customer.pk)
    rec_services.brand_retrain_request(brand_id=brand.pk, reason="customer connected")
    return joined


# --- the move -------------------------------------------------------------------------------


def _data_kinds() -> list:
    return [k for k in registry.all_kinds() if not k.merge.identity]


def _sizes(*customers: Customer) -> dict[int, dict[str, int]]:
    """{customer id: {kind: rows}} for every kind that moves: one query."""
    kinds = _data_kinds()
    annotations = {f"n{i}": _count(kind) for i, kind in enumerate(kinds)}
    rows = Customer.objects.filter(pk__in=[c.pk for c in customers]).annotate(**annotations)
    return {
        row["pk"]: {k.name: row[f"n{i}"] or 0 for i, k in enumerate(kinds)}
        for row in rows.values("pk", *annotations)
    }


def _join(shell: Customer, mine: Customer) -> Connected:
    """Everything of both records under the signed-in identity, moving the smaller side.

    A brand's record is usually far larger than a new account, so rather than re-point
    100,000 events the signed-in identity (user, public id, creation time) can move onto
    the brand's record instead: the result is the same, only the customer's row id changes.
    """
    sizes = _sizes(shell, mine)
    counts = {name: n for name, n in sizes[shell.pk].items() if n}
    for kind in _data_kinds():
        if kind.merge.key:
            _merge_keyed(kind, shell, mine)
        for flag in kind.merge.single:  # the signed-in customer's default stays theirs
            if kind.rows_for(mine).filter(**{flag: True}).exists():
                kind.rows_for(shell).filter(**{flag: True}).update(**{flag: False})
    if sum(sizes[shell.pk].values()) <= sum(sizes[mine.pk].values()):
        _move_rows(source=shell, target=mine, users=True)
        _delete(User._base_manager.filter(pk=shell.user_id), "account")
        return Connected(customer=mine, counts=counts)
    _move_rows(source=mine, target=shell, users=False)
    identity = {"user_id": mine.user_id, "public_id": mine.public_id, "created_at": mine.created_at}
    _delete(Customer._base_manager.filter(pk=mine.pk), "customer_record")
    Customer._base_manager.filter(pk=shell.pk).update(**identity)
    # The brand record's own login goes; its customer row is now the signed-in one's.
    _delete(User._base_manager.filter(pk=shell.user_id), "account")
    return Connected(
        customer=Customer.objects.select_related("user").get(pk=shell.pk), counts=counts
    )


def _move_rows(*, source: Customer, target: Customer, users: bool) -> None:
    """Re-point every moving row from `source` to `target`, one UPDATE per kind. Rows that
    hang off another kind's rows move with them (order lines with orders); rows owned
    through the user move only with `users` (when the source's login goes)."""
    for kind in _data_kinds():
        first_hop = kind.owner.split("__")[0]
        related = kind.get_model()._meta.get_field(first_hop).related_model
        if related is Customer:
            kind.rows_for(source).update(**{first_hop: target})
        elif related is User and users:
            kind.rows_for(source).update(**{first_hop: target.user})


def _merge_keyed(kind, shell: Customer, target: Customer) -> int:
    """Fold the shell's rows whose key the target already has into the target's (the
    stricter value wins), then delete them. Rows unique per customer are few (one per
    purpose, kind, fact field or brand), so they are compared here: a bounded number of
    statements, and NULL keys (a preference for every brand) compare as equal."""
    rule = kind.merge
    fields = ["pk", *rule.key, *(name for name, _ in rule.stricter)]
    mine = {tuple(r[k] for k in rule.key): r for r in kind.rows_for(target).values(*fields)}
    clashes = [
        (r, mine[key])
        for r in kind.rows_for(shell).values(*fields)
        if (key := tuple(r[k] for k in rule.key)) in mine
    ]
    if not clashes:
        return 0
    manager = kind.get_model()._base_manager
    for name, strict in rule.stricter:
        stricter = [own["pk"] for theirs, own in clashes if theirs[name] == strict != own[name]]
        if stricter:
            manager.filter(pk__in=stricter).update(**{name: strict})
    _delete(manager.filter(pk__in=[theirs["pk"] for theirs, _ in clashes]), kind.name)
    return len(clashes)


def _delete(queryset, fallback: str) -> None:
    _delete_rows(queryset, counts={}, model_kinds=_model_kinds(), fallback=fallback)


# --- the choices, before and after ----------------------------------------------------------


def _choices(customer: Customer) -> dict[tuple[str, str], bool]:
    """The customer's effective purposes and switched-off kinds (kinds default to on)."""
    state = {
        ("purpose", row["purpose"]): row["granted"]
        for row in selectors.purposes_state(customer=customer)
    }
    for name, in_use in KindSetting.objects.filter(customer=customer).values_list(
        "data_kind", "in_use"
    ):
        state[("kind", name)] = in_use
    return state


def _record_merge(customer, brand, mine: dict, theirs: dict, after: dict) -> None:
    """One history row per choice the two records disagreed on, with the result."""
    label = f"you, connecting {brand.name}'s record (the stricter choice is kept)"[:120]
    rows = []
    for key in sorted(set(mine) | set(theirs) | set(after)):
        if mine.get(key, True) == theirs.get(key, True) == after.get(key, True):
            continue
        what, name = key
        rows.append(
            ConsentEvent(
                customer=customer,
                purpose=name if what == "purpose" else "",
                data_kind=name if what == "kind" else "",
                granted=after.get(key, True),
                channel=CHANNEL,
                actor_label=label,
            )
        )
    consent_events_append(events=rows)
