"""The export's "in use" says what is read now: the point's own flag, its kind's switch and
its purposes, all applied at the moment of exporting."""

import json

from accounts.models import KindSetting, PurposeConsent
from tests.factories import BrandFactory, EventFactory, OrderFactory, ProductFactory
from transparency import export


def _in_use(customer) -> dict[str, dict[int, bool | None]]:
    document = json.loads("".join(export.json_chunks(customer=customer)))
    return {k["kind"]: {i["id"]: i["in_use"] for i in k["items"]} for k in document["kinds"]}


def test_a_kind_switched_off_exports_its_points_as_not_in_use(alice):
    brand = BrandFactory()
    event = EventFactory(customer=alice, brand=brand, product=ProductFactory(brand=brand))
    assert _in_use(alice)["event"][event.pk] is True

    KindSetting.objects.create(customer=alice, data_kind="event", in_use=False)

    assert _in_use(alice)["event"][event.pk] is False


def test_a_purpose_switched_off_exports_the_points_only_it_used_as_not_in_use(alice):
    brand = BrandFactory()
    event = EventFactory(customer=alice, brand=brand, product=ProductFactory(brand=brand))
    order = OrderFactory(customer=alice, brand=brand)

    PurposeConsent.objects.create(customer=alice, purpose="personalization", granted=False)
    found = _in_use(alice)

    assert found["event"][event.pk] is False  # only ever read for personalization
    assert found["order"][order.pk] is True  # still needed for checkout
