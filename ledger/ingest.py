"""Server-to-server ingest: what a brand's systems send about its customers and catalog.

Each batch is all-or-nothing: every item is validated (schema, then references to the
brand's own products and customers) before anything is written, then everything is written
in one transaction with bulk statements, a fixed number of queries whatever the batch size
(P4, P7). Items are idempotent on (brand, external id) (F3). Items for a customer who
erased their account (tombstone), or whose erasure is running (the write waits for the
customer's lock, accounts.locks), are dropped and counted (D4, D7); so are events for one who
withdrew personalization, the only purpose activity is recorded for. Orders are kept (order
history, reorder: checkout) and, like every order, not read by training while
personalization is off.
Every lookup is scoped to the authenticated brand (B2). Nothing personal is logged.
"""

from collections.abc import Sequence
from decimal import Decimal

from accounts.audit import Actor
from accounts.locks import customers_lock
from accounts.models import (
    Brand,
    CustomerBrand,
    Purpose,
)
from accounts.services import brand_customers_create

from .events import events_create
from .ingest_batch import (
    IngestResult,
    ItemError,
    audit_counts,
    batch_run,
    customer_ref_errors,
    customers_resolve,
    erased_refs,
    existing_external_ids,
    product_ids,
    reject_if,
)
from .models import Event, Order, OrderLine, Product, Source
from .schemas import CustomerIn, EventIn, OrderIn, ProductIn
from .validation import decimal_fits


def events_ingest(*, brand: Brand, items: Sequence[EventIn]) -> IngestResult:
    return batch_run(lambda: _events_write(brand, items))


def _events_write(brand: Brand, items: Sequence[EventIn]) -> IngestResult:
    """Validate every event, drop what must not be stored (erased, withheld, duplicate),
    then store the rest through events_create. Longer than 50 lines for the same reason as
    _orders_write: all-or-nothing validation before the first write.
    """
    # str(): the schema's Ref type is built at import time, which mypy cannot follow.
    refs: set[str] = {str(i.product_ref) for i in items if i.product_ref}
    products = product_ids(brand, refs)
    customers = customers_resolve(
        brand,
        {i.customer_ref for i in items},
        data_kind="event",
        drop_without=Purpose.PERSONALIZATION,
    )
    errors = customer_ref_errors(items, customers)
    errors += [
        ItemError(i, "product_ref", "unknown product reference for this brand")
        for i, item in enumerate(items)
        if item.product_ref and item.product_ref not in products
    ]
    reject_if(errors)

    existing = existing_external_ids(Event, brand, {i.external_id for i in items})
    result, rows = IngestResult(), []
    for item in items:
        customer_id = customers.ids.get(item.customer_ref)
        if customer_id is None or customer_id in customers.withheld:
            result.dropped += 1
            continue
        if item.external_id in existing:
            result.duplicates += 1
            continue
        existing.add(item.external_id)
        rows.append(
            Event(
                customer_id=customer_id,
                brand=brand,
                source=Source.OBSERVED,
                in_use=customer_id not in customers.unused,
                external_id=item.external_id,
                kind=item.kind,
                product_id=products.get(item.product_ref) if item.product_ref else None,
                value=item.value,
                query=item.query,
                occurred_at=item.occurred_at,
            )
        )
    if rows:
        events_create(
            events=rows,
            actor=Actor.brand(brand),
            action="ingest",
            describe=lambda n: f"{n} event{'' if n == 1 else 's'} from the brand's feed",
        )
    result.stored = len(rows)
    return result


# --- orders ------------------------------------------------------------------------------


def orders_ingest(*, brand: Brand, items: Sequence[OrderIn]) -> IngestResult:
    return batch_run(lambda: _orders_write(brand, items))


def _orders_write(brand: Brand, items: Sequence[OrderIn]) -> IngestResult:
    """Validate every order (references, totals), then write orders, lines and audit rows in
    bulk. Longer than 50 lines: validation must finish before the first write (all or
    nothing), and both halves share the resolved references.
    """
    products = product_ids(brand, {line.product_ref for i in items for line in i.lines})
    customers = customers_resolve(brand, {i.customer_ref for i in items}, data_kind="order")
    errors = customer_ref_errors(items, customers)
    errors += [
        ItemError(i, f"lines.{n}.product_ref", "unknown product reference for this brand")
        for i, item in enumerate(items)
        for n, line in enumerate(item.lines)
        if line.product_ref not in products
    ]
    totals = [_order_total(item) for item in items]
    errors += [
        ItemError(i, "total", "the order total does not fit 12 digits with 2 decimals")
        for i, total in enumerate(totals)
        if not decimal_fits(total, Order, "total")
    ]
    reject_if(errors)

    existing = existing_external_ids(Order, brand, {i.external_id for i in items})
    result, kept = IngestResult(), []
    per_customer: dict[int, int] = {}
    for item, total in zip(items, totals, strict=True):
        customer_id = customers.ids.get(item.customer_ref)
        if customer_id is None:  # erased (personalization off: kept, see the docstring)
            result.dropped += 1
            continue
        if item.external_id in existing:
            result.duplicates += 1
            continue
        existing.add(item.external_id)
        order = Order(
            customer_id=customer_id,
            brand=brand,
            source=Source.OBSERVED,
            in_use=customer_id not in customers.unused,
            external_id=item.external_id,
            placed_at=item.placed_at,
            currency=item.currency,
            total=total,
            is_gift=item.is_gift,
        )
        kept.append((order, item))
        per_customer[customer_id] = per_customer.get(customer_id, 0) + 1
    if kept:
        # PostgreSQL and SQLite >= 3.35 return the new primary keys from a bulk insert.
        orders = Order.objects.bulk_create([order for order, _ in kept])
        OrderLine.objects.bulk_create(
            OrderLine(
                order_id=order.pk,
                product_id=products[line.product_ref],
                quantity=line.quantity,
                unit_price=line.unit_price,
            )
            for order, (_, item) in zip(orders, kept, strict=True)
            for line in item.lines
        )
        audit_counts(brand=brand, counts=per_customer, data_kind="order", noun="order")
    result.stored = len(kept)
    return result


def _order_total(item: OrderIn) -> Decimal:
    if item.total is not None:
        return item.total
    return sum((line.unit_price * line.quantity for line in item.lines), start=Decimal(0))


# --- products ----------------------------------------------------------------------------

_PRODUCT_FIELDS = ("name", "category", "price", "image_url", "active")


def products_ingest(*, brand: Brand, items: Sequence[ProductIn]) -> IngestResult:
    """Upsert the brand's catalog: new ids are created, changed ones updated, the rest
    counted as duplicates. Catalog rows are not customer data, so no audit rows."""
    return batch_run(lambda: _products_write(brand, items))


def _products_write(brand: Brand, items: Sequence[ProductIn]) -> IngestResult:
    existing = {
        p.external_id: p
        for p in Product.objects.filter(brand=brand, external_id__in={i.external_id for i in items})
    }
    result, new, changed, seen = IngestResult(), [], [], set()
    for item in items:
        if item.external_id in seen:
            result.duplicates += 1
            continue
        seen.add(item.external_id)
        values = {name: getattr(item, name) for name in _PRODUCT_FIELDS}
        product = existing.get(item.external_id)
        if product is None:
            new.append(Product(brand=brand, external_id=item.external_id, **values))
        elif any(getattr(product, k) != v for k, v in values.items()):
            for name, value in values.items():
                setattr(product, name, value)
            changed.append(product)
        else:
            result.duplicates += 1
    if new:
        Product.objects.bulk_create(new)
    if changed:
        Product.objects.bulk_update(changed, _PRODUCT_FIELDS)
    result.stored = len(new) + len(changed)
    return result


# --- customers ---------------------------------------------------------------------------


def customers_ingest(*, brand: Brand, items: Sequence[CustomerIn]) -> IngestResult:
    """Make sure each of the brand's references has a customer linked to the brand.

    A new reference gets a login-less user (unusable password, generated username), a
    Customer, the brand link (source: third party) and the brand's sensitivity defaults as
    consent state + history (channel "default"). A reference the customer erased is dropped.
    """
    return batch_run(lambda: _customers_write(brand, items))


def _customers_write(brand: Brand, items: Sequence[CustomerIn]) -> IngestResult:
    refs = [i.external_ref for i in items]
    links = dict(
        CustomerBrand.objects.filter(brand=brand, external_ref__in=refs).values_list(
            "external_ref", "customer_id"
        )
    )
    alive = customers_lock(links.values())  # see customers_resolve
    linked = {ref for ref, customer_id in links.items() if customer_id in alive}
    erased = (links.keys() - linked) | erased_refs(brand, set(refs) - links.keys())
    result, new_refs = IngestResult(), []
    for ref in refs:
        if ref in erased:
            result.dropped += 1
        elif ref in linked:
            result.duplicates += 1
        else:
            linked.add(ref)
            new_refs.append(ref)
    if new_refs:
        brand_customers_create(brand=brand, refs=new_refs, actor=Actor.brand(brand))
    result.stored = len(new_refs)
    return result
