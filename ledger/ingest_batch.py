"""What every ingest batch shares (ledger.ingest): the result and error types, the
all-or-nothing run, the audit rows, and reference resolution against the brand's own
customers and products (one query per table, scoped to the brand).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction

from accounts.audit import Actor, AuditEntry, audit_record_many
from accounts.keys import tombstone_digest
from accounts.locks import customers_lock
from accounts.models import (
    Brand,
    CustomerBrand,
    ErasureTombstone,
    KindSetting,
    PurposeConsent,
)
from accounts.profiles import purpose_default

from .models import Product

MAX_ERRORS_REPORTED = 20


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    dropped: int = 0


@dataclass
class ItemError:
    index: int
    field: str
    message: str


@dataclass
class IngestRejected(Exception):
    """The batch is refused as a whole; `errors` are sorted by item index."""

    errors: list[ItemError] = field(default_factory=list)

    def __str__(self) -> str:
        first = self.errors[0]
        return f"item {first.index}: {first.field}: {first.message}"


def _lift_sqlite_param_limit() -> None:
    """Let bulk statements use SQLite's real variable limit, not Django 5.2's 999.

    Otherwise SQLite splits a 1,000-row insert into a dozen statements and the query count
    grows with the batch (Django 6.0 reads the limit from the connection the same way).
    """
    if connection.vendor != "sqlite":
        return
    connection.ensure_connection()
    raw = connection.connection
    limit = raw.getlimit(9)  # sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER
    if limit > connection.features.max_query_params:
        connection.features.max_query_params = limit


def batch_run(write, attempts: int = 2) -> IngestResult:
    """Validate + write in one transaction; if a concurrent delivery of the same external
    ids won the race, run again once so those items count as duplicates."""
    _lift_sqlite_param_limit()
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                return write()
        except IntegrityError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def reject_if(errors: list[ItemError]) -> None:
    if errors:
        errors.sort(key=lambda e: e.index)
        raise IngestRejected(errors[:MAX_ERRORS_REPORTED])


def audit_counts(*, brand: Brand, counts: dict[int, int], data_kind: str, noun: str) -> None:
    audit_record_many(
        actor=Actor.brand(brand),
        entries=(
            AuditEntry(
                customer_id=customer_id,
                data_kind=data_kind,
                action="ingest",
                reason=f"{n} {noun}{'' if n == 1 else 's'} from the brand's feed",
            )
            for customer_id, n in counts.items()
        ),
    )


# --- reference resolution (one query per table) --------------------------------------------


@dataclass
class Customers:
    ids: dict[str, int]  # external ref -> customer id, for this brand only
    erased: set[str]  # refs with an erasure tombstone
    withheld: set[int]  # customers whose `drop_without` purpose is off
    unused: set[int]  # customers who switched this data kind off ("keep but don't use")


def customers_resolve(
    brand: Brand, refs: set[str], *, data_kind: str, drop_without: str | None = None
) -> Customers:
    ids = dict(
        CustomerBrand.objects.filter(brand=brand, external_ref__in=refs).values_list(
            "external_ref", "customer_id"
        )
    )
    # Erasure is serialisable with this write (accounts.locks): a customer it took meanwhile
    # is dropped like one erased before, and everything read below is read under the lock.
    alive = customers_lock(ids.values())
    gone = {ref for ref, customer_id in ids.items() if customer_id not in alive}
    ids = {ref: customer_id for ref, customer_id in ids.items() if customer_id in alive}
    erased = gone | erased_refs(brand, refs - ids.keys() - gone)
    customer_ids = set(ids.values())
    return Customers(
        ids=ids,
        erased=erased,
        withheld=purpose_withheld(brand, customer_ids, drop_without) if drop_without else set(),
        unused=set(
            KindSetting.objects.filter(
                customer_id__in=customer_ids, data_kind=data_kind, in_use=False
            ).values_list("customer_id", flat=True)
        )
        if customer_ids
        else set(),
    )


def erased_refs(brand: Brand, refs: Iterable[str]) -> set[str]:
    by_digest = {tombstone_digest(brand.pk, ref): ref for ref in refs}
    if not by_digest:
        return set()
    found = ErasureTombstone.objects.filter(brand=brand, ref_digest__in=by_digest).values_list(
        "ref_digest", flat=True
    )
    return {by_digest[d] for d in found}


def purpose_withheld(brand: Brand, customer_ids: set[int], purpose: str) -> set[int]:
    if not customer_ids:
        return set()
    granted = dict(
        PurposeConsent.objects.filter(customer_id__in=customer_ids, purpose=purpose).values_list(
            "customer_id", "granted"
        )
    )
    default = purpose_default(brand.sensitivity, purpose)
    return {cid for cid in customer_ids if not granted.get(cid, default)}


def product_ids(brand: Brand, refs: set[str]) -> dict[str, int]:
    if not refs:
        return {}
    return dict(
        Product.objects.filter(brand=brand, external_id__in=refs).values_list("external_id", "pk")
    )


def customer_ref_errors(items: Sequence, customers: Customers) -> list[ItemError]:
    return [
        ItemError(i, "customer_ref", "unknown customer reference for this brand")
        for i, item in enumerate(items)
        if item.customer_ref not in customers.ids and item.customer_ref not in customers.erased
    ]


def existing_external_ids(model, brand: Brand, ids: set[str]) -> set[str]:
    return set(
        model.objects.filter(brand=brand, external_id__in=ids).values_list("external_id", flat=True)
    )


# --- events ------------------------------------------------------------------------------
