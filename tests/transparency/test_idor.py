"""B1: every transparency URL that takes an id, as alice against bob's ids: 404."""

import pytest
from django.urls import reverse

from ledger.models import Event
from tests.factories import BrandFactory, EventFactory, ProductFactory
from tests.transparency.test_erasure import seed_every_kind
from transparency import registry
from transparency.models import DeletionReceipt


@pytest.fixture
def bobs(bob):
    brand = BrandFactory(slug="bobs-brand")
    seed_every_kind(bob, brand, ProductFactory(brand=brand))
    return brand


def test_alice_gets_404_for_every_one_of_bobs_items(alice_client, bob, bobs):
    tried = 0
    for kind in registry.all_kinds():
        for pk in kind.rows_for(bob).values_list("pk", flat=True):
            for name in ("dashboard:data_point_use", "dashboard:data_point_delete"):
                url = reverse(name, args=[kind.name, pk])
                for method in ("get", "post"):
                    response = getattr(alice_client, method)(url, {"in_use": "0"})
                    assert response.status_code in (404, 405), (url, method)
                    if name == "dashboard:data_point_delete" or method == "post":
                        assert response.status_code == 404, (url, method)
                    tried += 1
    assert tried > 40
    assert Event.objects.filter(customer=bob, in_use=True).exists()
    assert not DeletionReceipt.objects.filter(customer__isnull=True).exists()


def test_alice_gets_404_for_a_brand_that_holds_none_of_her_data(alice_client, alice, bobs):
    EventFactory(customer=alice)
    url = reverse("dashboard:data_brand_delete", args=[bobs.pk])

    assert alice_client.get(url).status_code == 404
    assert alice_client.post(url).status_code == 404
    assert Event.objects.filter(brand=bobs).exists()


def test_a_receipt_is_public_by_unguessable_uuid_and_reveals_only_counts(client, bob, bobs):
    receipt = DeletionReceipt.objects.get(customer=bob)

    page = client.get(reverse("receipt", args=[receipt.public_id])).content.decode()

    assert "Activity" in page and "bob" not in page
    assert str(bob.public_id) not in page
    missing = "00000000-0000-0000-0000-000000000000"
    assert client.get(reverse("receipt", args=[missing])).status_code == 404
