"""The brand's own record of its customers, through `POST /api/v1/ingest/customers`.

After the customers themselves (ledger.ingest.customers_ingest), in the same transaction:
- facts (legal name, birthday, email, phone), addresses (by the brand's external id) and
  contact preferences per channel are stored with who set them and when (provenance). A
  value the customer corrected in Candor is kept: the brand's differing value is recorded
  beside it and the brand is told (`data.updated`). Between brands' values, the one
  collected later wins; re-sending the same record changes nothing (idempotent).
- consents the brand collected go into the consent history with where they were given and
  the wording version (accounts.consent_history, the hash chain). Stricter wins against the
  customer's own choice in Candor: a brand's "refused" switches a purpose off, its "allowed"
  switches it on only when the customer never chose in Candor.
- third-party attributes are stored only while the customer allows third-party enrichment
  (after this item's consents); otherwise they are dropped and counted.
A fixed number of statements per batch, except one webhook per corrected value kept and per
consent change told to the customer's other brands. Nothing personal is logged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.audit import Actor, AuditEntry, audit_record_many
from accounts.consent_history import consent_events_append
from accounts.locks import customers_lock
from accounts.models import (
    Brand,
    ConsentEvent,
    CustomerBrand,
    KindSetting,
    Purpose,
    PurposeConsent,
    WebhookEventType,
)
from accounts.signals import consent_withdrawn, purposes_changed
from accounts.webhooks import webhook_emit

from . import ingest
from .models import (
    Address,
    ContactPreference,
    PartnerAttribute,
    PersonalFact,
)
from .record_schemas import CustomerRecordIn
from .record_values import ADDRESS_FIELDS, RecordValues

FACTS = ("legal_name", "birthday", "email", "phone")
SHAPES_RESULTS = {Purpose.PERSONALIZATION, Purpose.CROSS_BRAND}


@dataclass
class RecordResult:
    stored: int = 0
    duplicates: int = 0
    dropped: int = 0
    third_party_dropped: int = 0
    customer_values_kept: int = 0


def customer_records_ingest(*, brand: Brand, items: Sequence[CustomerRecordIn]) -> dict:
    """Upsert the brand's customers with their records, all or nothing (see the module)."""
    if not any(i.record or i.consents or i.third_party for i in items):
        # References only: exactly the customer feed, with the same statements.
        return asdict(RecordResult(**asdict(ingest.customers_ingest(brand=brand, items=items))))
    for attempt in range(2):
        try:
            with transaction.atomic():
                return asdict(_Batch(brand, items).run())
        except IntegrityError:  # a concurrent delivery won a unique key: once more
            if attempt:
                raise
    raise AssertionError("unreachable")


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class _Batch(RecordValues):
    def __init__(self, brand: Brand, items: Sequence[CustomerRecordIn]):
        self.brand, self.items = brand, items
        self.result = RecordResult()
        self.changed_items: set[int] = set()
        self.audit: dict[tuple[int, str], int] = defaultdict(int)
        self.kept: list[tuple[int, str, dict]] = []  # (customer, kind, what) told to the brand
        self.consent_changes: list[tuple[int, str, bool]] = []
        self.new: dict[type, list] = defaultdict(list)
        self.dirty: dict[type, dict[int, Any]] = defaultdict(dict)  # rows of several models

    # --- the batch -----------------------------------------------------------------------

    def run(self) -> RecordResult:
        refs = [i.external_ref for i in self.items]
        known = set(
            CustomerBrand.objects.filter(brand=self.brand, external_ref__in=refs).values_list(
                "external_ref", flat=True
            )
        )
        ingest.customers_ingest(brand=self.brand, items=self.items)
        links = dict(
            CustomerBrand.objects.filter(brand=self.brand, external_ref__in=refs).values_list(
                "external_ref", "customer_id"
            )
        )
        alive = customers_lock(links.values())
        self.ids = {ref: cid for ref, cid in links.items() if cid in alive}
        self._load()
        seen: set[str] = set()
        for index, item in enumerate(self.items):
            cid = self.ids.get(item.external_ref)
            if cid is None:  # erased: the customer feed dropped it
                self.result.dropped += 1
                self.result.third_party_dropped += len(item.third_party)
                continue
            if item.external_ref not in known and item.external_ref not in seen:
                self.changed_items.add(index)  # a new customer
            seen.add(item.external_ref)
            self._item(index, cid, item)
            if index in self.changed_items:
                self.result.stored += 1
            else:
                self.result.duplicates += 1
        self._write()
        return self.result

    def _with(self, part) -> set[int]:
        """The (live) customers of the items that carry `part`."""
        return {
            self.ids[i.external_ref] for i in self.items if part(i) and i.external_ref in self.ids
        }

    def _load(self) -> None:
        """Everything the items are compared with, one query per table (none for a table
        no item needs: Django answers an empty IN without asking the database)."""
        with_record = self._with(lambda i: i.record)
        self.facts = {
            (f.customer_id, f.field): f
            for f in PersonalFact.objects.filter(customer_id__in=with_record, field__in=FACTS)
        }
        ext_ids = {a.external_id for i in self.items if i.record for a in i.record.addresses}
        self.addresses = {
            a.external_id: a
            for a in Address.objects.filter(brand=self.brand, external_id__in=ext_ids)
        }
        self.with_default = set(
            Address.objects.filter(
                customer_id__in=self._with(lambda i: i.record and i.record.addresses),
                is_default=True,
            ).values_list("customer_id", flat=True)
        )
        self.prefs = {
            p.customer_id: p
            for p in ContactPreference.objects.filter(
                customer_id__in=self._with(lambda i: i.record and i.record.contact_preferences),
                brand=self.brand,
            )
        }
        self.unused = set(
            KindSetting.objects.filter(
                customer_id__in=self._with(lambda i: i.record or i.third_party), in_use=False
            ).values_list("customer_id", "data_kind")
        )
        self.granted = dict(
            ((cid, p), g)
            for cid, p, g in PurposeConsent.objects.filter(
                customer_id__in=self._with(lambda i: i.consents or i.third_party)
            ).values_list("customer_id", "purpose", "granted")
        )
        self._load_history(self._with(lambda i: i.consents))
        self.partner = {
            (a.customer_id, a.partner_name, a.name): a
            for a in PartnerAttribute.objects.filter(
                customer_id__in=self._with(lambda i: i.third_party), brand=self.brand
            )
        }

    def _load_history(self, cids: set[int]) -> None:
        """Brand-collected consents already recorded (re-deliveries), the latest per
        purpose, and which purposes the customer chose in Candor (not profile defaults)."""
        self.history: set[tuple] = set()
        self.customer_chose: set[tuple[int, str]] = set()
        self.latest_brand: dict[tuple[int, str], datetime] = {}
        events = ConsentEvent.objects.filter(
            Q(collected_at__isnull=False) | ~Q(channel="default"),
            customer_id__in=cids,
            purpose__in=Purpose.values,
        ).values_list(
            "customer_id",
            "purpose",
            "granted",
            "channel",
            "collected_at",
            "wording_version",
            "actor_label",
        )
        for cid, purpose, granted, channel, collected, wording, label in events:
            if collected is None:
                self.customer_chose.add((cid, purpose))
                continue
            self.history.add((cid, purpose, granted, channel, collected, wording, label))
            key = (cid, purpose)
            self.latest_brand[key] = max(collected, self.latest_brand.get(key, collected))

    def _item(self, index: int, cid: int, item: CustomerRecordIn) -> None:
        if item.record:
            for name in FACTS:
                fact = getattr(item.record, name)
                if fact is not None:
                    value = fact.value.isoformat() if name == "birthday" else fact.value
                    self._fact(index, cid, name, value, fact.collected_at)
            for n, address in enumerate(item.record.addresses):
                self._address(index, n, cid, address)
            if item.record.contact_preferences:
                self._contact(index, cid, item.record.contact_preferences)
        for consent in sorted(item.consents, key=lambda c: c.collected_at):
            self._consent(index, cid, consent)
        for attribute in item.third_party:
            self._partner(index, cid, attribute)

    # --- the writes: bulk, one statement per table ----------------------------------------

    UPDATE_FIELDS = {
        PersonalFact: ("value", "brand", "set_by", "set_at"),
        Address: (*ADDRESS_FIELDS, "set_at"),
        ContactPreference: ("channel", "channels", "set_at"),
        PartnerAttribute: ("value", "purpose", "obtained_at"),
    }
    SENT_FIELDS = ("brand_sent_value", "brand_sent_at", "brand_sent_by")

    def _write(self) -> None:
        for model in (PersonalFact, Address, ContactPreference, PartnerAttribute):
            if self.new[model]:
                model.objects.bulk_create(self.new[model])
            if self.dirty[model]:
                # An upsert on the primary key: one statement, linear in the rows, where
                # bulk_update builds a CASE per field and row (30 s for 1,000 records).
                fields = self.UPDATE_FIELDS[model]
                if model is not PartnerAttribute:
                    fields = (*fields, *self.SENT_FIELDS)
                model.objects.bulk_create(
                    list(self.dirty[model].values()),
                    update_conflicts=True,
                    unique_fields=["id"],
                    update_fields=[*fields, "updated_at"],
                )
        consent_events_append(events=self.new[ConsentEvent])
        if self.consent_changes:
            final = {(cid, p): g for cid, p, g in self.consent_changes}
            PurposeConsent.objects.bulk_create(
                [
                    PurposeConsent(customer_id=c, purpose=p, granted=g)
                    for (c, p), g in final.items()
                ],
                update_conflicts=True,
                unique_fields=["customer", "purpose"],
                update_fields=["granted", "updated_at"],
            )
        self._audit()
        self._tell_brands()

    def _audit(self) -> None:
        audit_record_many(
            actor=Actor.brand(self.brand),
            entries=[
                AuditEntry(
                    customer_id=cid,
                    data_kind=kind,
                    action="ingest",
                    reason=f"{n} item{'' if n == 1 else 's'} from {self.brand.name}'s record",
                )
                for (cid, kind), n in sorted(self.audit.items())
            ],
        )

    def _tell_brands(self) -> None:
        """`data.updated` to this brand for each correction kept; a consent change to the
        customer's other brands (this one sent it)."""
        refs = {cid: ref for ref, cid in self.ids.items()}
        now = _iso(timezone.now())
        for cid, kind, what in self.kept:
            webhook_emit(
                brand_id=self.brand.pk,
                customer_ref=refs[cid],
                event_type=WebhookEventType.DATA_UPDATED,
                data={"kind": kind, **what, "kept": "customer", "at": now},
            )
        if not self.consent_changes:
            return
        # Off means off in the widget too, as for a choice made on the dashboard.
        shaped = sorted({c for c, p, _ in self.consent_changes if p in SHAPES_RESULTS})
        if shaped:
            purposes_changed.send(sender=type(self), customer_ids=shaped)
        withdrawn: defaultdict[str, set[int]] = defaultdict(set)
        for cid, purpose, granted in self.consent_changes:
            if not granted:
                withdrawn[purpose].add(cid)
        for purpose, cids in sorted(withdrawn.items()):
            consent_withdrawn.send(
                sender=type(self),
                customer_ids=sorted(cids),
                purpose=purpose,
                brand_id=self.brand.pk,
            )
        others: defaultdict[int, dict[int, str]] = defaultdict(dict)
        for cid, brand_id, ref in CustomerBrand.objects.filter(
            ~Q(brand=self.brand), customer_id__in={c for c, _, _ in self.consent_changes}
        ).values_list("customer_id", "brand_id", "external_ref"):
            others[cid][brand_id] = ref
        for cid, purpose, granted in self.consent_changes:
            for brand_id, ref in others[cid].items():
                webhook_emit(
                    brand_id=brand_id,
                    customer_ref=ref,
                    event_type=WebhookEventType.CONSENT_CHANGED,
                    data={"purpose": purpose, "allowed": granted, "at": now},
                )
