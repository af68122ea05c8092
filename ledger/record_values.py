"""One value of a brand's record at a time, compared in memory with what is held
(ledger.record_ingest loads it and writes the outcome in bulk).

The rules: a value the customer set in Candor stays; the brand's differing value is kept
beside it (encrypted), once, and the brand is told. Between brands' values the later
collected one wins. A consent the brand collected is history; a refusal switches the purpose
off, an "allowed" switches it on only if the customer never chose in Candor and nothing
later was collected. Partner data needs third-party enrichment allowed.
"""

from __future__ import annotations

import json
from datetime import datetime

from accounts.models import ConsentEvent, Purpose
from accounts.profiles import purpose_default

from .ingest_batch import IngestRejected, ItemError
from .models import (
    Address,
    Channel,
    ContactPreference,
    PartnerAttribute,
    PersonalFact,
    SetBy,
    Source,
)

ADDRESS_FIELDS = ("label", "recipient", "line1", "line2", "city", "postal_code", "country")
CHANNEL_ORDER = (Channel.EMAIL, Channel.SMS, Channel.POST)


class RecordValues:
    """Mixed into the batch, which provides the loaded state (`facts`, `addresses`, ...),
    `brand`, `result` and the collections written at the end (`new`, `dirty`, ...)."""

    def _touch(self, index: int, cid: int, kind: str, obj) -> None:
        self.changed_items.add(index)
        self.audit[(cid, kind)] += 1
        if obj is not None and obj.pk is not None:
            self.dirty[type(obj)][obj.pk] = obj

    def _keep_customers(self, index, cid, kind, obj, sent: str, at: datetime, what: dict):
        """The customer corrected this in Candor: theirs stays, the brand's is recorded."""
        if obj.brand_sent_value == sent and obj.brand_sent_by_id == self.brand.pk:
            return  # already recorded: a re-delivery
        obj.brand_sent_value, obj.brand_sent_at, obj.brand_sent_by_id = sent, at, self.brand.pk
        self._touch(index, cid, kind, obj)
        self.result.customer_values_kept += 1
        self.kept.append((cid, kind, what))

    def _newer(self, obj, at: datetime) -> bool:
        return obj.set_at is None or at >= obj.set_at

    def _fact(self, index: int, cid: int, name: str, value: str, at: datetime) -> None:
        fact = self.facts.get((cid, name))
        if fact is None:
            fact = PersonalFact(
                customer_id=cid,
                brand=self.brand,
                source=Source.PROVIDED,
                field=name,
                value=value,
                set_by=SetBy.BRAND,
                set_at=at,
                in_use=(cid, "personal_fact") not in self.unused,
            )
            self.facts[(cid, name)] = fact
            self.new[PersonalFact].append(fact)
            self._touch(index, cid, "personal_fact", fact)
        elif fact.set_by == SetBy.CUSTOMER:
            if fact.value != value:
                self._keep_customers(index, cid, "personal_fact", fact, value, at, {"field": name})
        elif (fact.value, fact.brand_id) != (value, self.brand.pk) and self._newer(fact, at):
            fact.value, fact.brand_id, fact.set_by, fact.set_at = (
                value,
                self.brand.pk,
                SetBy.BRAND,
                at,
            )
            self._touch(index, cid, "personal_fact", fact)

    def _address(self, index: int, n: int, cid: int, item) -> None:
        values = {k: getattr(item, k) for k in ADDRESS_FIELDS}
        address = self.addresses.get(item.external_id)
        if address is not None and address.customer_id != cid:
            raise IngestRejected(
                [
                    ItemError(
                        index,
                        f"record.addresses.{n}.external_id",
                        "this address id belongs to another of your customers",
                    )
                ]
            )
        if address is None:
            address = Address(
                customer_id=cid,
                brand=self.brand,
                source=Source.PROVIDED,
                external_id=item.external_id,
                set_by=SetBy.BRAND,
                set_at=item.collected_at,
                is_default=cid not in self.with_default,
                in_use=(cid, "address") not in self.unused,
                **values,
            )
            self.with_default.add(cid)
            self.addresses[item.external_id] = address
            self.new[Address].append(address)
            self._touch(index, cid, "address", address)
        elif address.set_by == SetBy.CUSTOMER:
            if any(getattr(address, k) != v for k, v in values.items()):
                sent = json.dumps(values, sort_keys=True)
                what = {"external_id": item.external_id}
                self._keep_customers(index, cid, "address", address, sent, item.collected_at, what)
        elif any(getattr(address, k) != v for k, v in values.items()) and self._newer(
            address, item.collected_at
        ):
            for k, v in values.items():
                setattr(address, k, v)
            address.set_at = item.collected_at
            self._touch(index, cid, "address", address)

    def _contact(self, index: int, cid: int, prefs) -> None:
        at = max(p.collected_at for p in prefs)
        pref = self.prefs.get(cid)
        channels = dict(pref.channels) if pref is not None and pref.set_by != SetBy.CUSTOMER else {}
        channels.update({p.channel: p.allowed for p in prefs})
        channel = next((c for c in CHANNEL_ORDER if channels.get(c.value)), Channel.NONE)
        if pref is None:
            pref = ContactPreference(
                customer_id=cid,
                brand=self.brand,
                source=Source.PROVIDED,
                channel=channel,
                channels=channels,
                set_by=SetBy.BRAND,
                set_at=at,
                in_use=(cid, "contact_preference") not in self.unused,
            )
            self.prefs[cid] = pref
            self.new[ContactPreference].append(pref)
            self._touch(index, cid, "contact_preference", pref)
        elif pref.set_by == SetBy.CUSTOMER:
            if pref.channel != channel:
                sent = json.dumps(channels, sort_keys=True)
                what = {"channels": sorted(channels)}
                self._keep_customers(index, cid, "contact_preference", pref, sent, at, what)
        elif (pref.channels, pref.channel) != (channels, channel) and self._newer(pref, at):
            pref.channels, pref.channel, pref.set_at = channels, channel, at
            self._touch(index, cid, "contact_preference", pref)

    def _state(self, cid: int, purpose: str) -> bool:
        return self.granted.get((cid, purpose), purpose_default(self.brand.sensitivity, purpose))

    def _consent(self, index: int, cid: int, item) -> None:
        label = self.brand.name[:120]
        key = (
            cid,
            item.purpose,
            item.allowed,
            item.channel,
            item.collected_at,
            item.wording_version,
            label,
        )
        if key in self.history:
            return  # already in the history: a re-delivery
        self.history.add(key)
        self.new[ConsentEvent].append(
            ConsentEvent(
                customer_id=cid,
                purpose=item.purpose,
                granted=item.allowed,
                channel=item.channel,
                actor_label=label,
                collected_at=item.collected_at,
                wording_version=item.wording_version,
            )
        )
        self._touch(index, cid, "consent_history", None)
        current = self._state(cid, item.purpose)
        latest = self.latest_brand.get((cid, item.purpose))
        if latest is not None and item.collected_at < latest:
            after = current  # superseded by a later one the brand collected
        elif not item.allowed:
            after = False  # a withdrawal is a withdrawal, whatever was chosen here
        elif (cid, item.purpose) in self.customer_chose:
            after = current  # the customer's own choice in Candor stands
        else:
            after = True
        self.latest_brand[(cid, item.purpose)] = max(item.collected_at, latest or item.collected_at)
        if after != current:
            self.granted[(cid, item.purpose)] = after
            self.consent_changes.append((cid, item.purpose, after))
            self.audit[(cid, "consent")] += 1

    def _partner(self, index: int, cid: int, item) -> None:
        if not self._state(cid, Purpose.THIRD_PARTY):
            self.result.third_party_dropped += 1
            return
        key = (cid, item.partner, item.name)
        row = self.partner.get(key)
        values = {"value": item.value, "purpose": item.purpose, "obtained_at": item.obtained_at}
        if row is None:
            row = PartnerAttribute(
                customer_id=cid,
                brand=self.brand,
                source=Source.THIRD_PARTY,
                partner_name=item.partner,
                name=item.name,
                external_id=f"{item.partner}/{item.name}",
                in_use=(cid, "partner_attribute") not in self.unused,
                **values,
            )
            self.partner[key] = row
            self.new[PartnerAttribute].append(row)
            self._touch(index, cid, "partner_attribute", row)
        elif any(getattr(row, k) != v for k, v in values.items()) and (
            item.obtained_at >= row.obtained_at
        ):
            for k, v in values.items():
                setattr(row, k, v)
            self._touch(index, cid, "partner_attribute", row)
