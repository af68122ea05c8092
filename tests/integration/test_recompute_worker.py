"""A change to a customer's data reaches their recommendations through a real worker."""

import pytest
from django.db import transaction

from recommendations import services
from recommendations.models import Recommendation
from tests.conftest import wait_for
from tests.recommendations.conftest import alice_history, crowd, rate, shop

SCENARIO = (shop, crowd, alice_history)  # pytest fixtures shared with tests/recommendations

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _recs(customer) -> set[int]:
    return set(
        Recommendation.objects.filter(customer=customer).values_list("product_id", flat=True)
    )


def test_new_data_leads_to_new_recommendations_computed_by_the_worker(
    shop, crowd, alice, alice_history, celery_worker
):
    brand, products = shop
    services.train_brand(brand_id=brand.pk)  # the active model the worker folds into
    before = _recs(alice)
    assert before

    with transaction.atomic():  # committed: the outbox publishes on commit
        for product in products["Outerwear"][1:]:
            rate(alice, brand, product, 5.0, days_ago=0)
        services.customer_recompute_request(customer_id=alice.pk)

    from accounts.models import OutboxMessage

    assert list(OutboxMessage.objects.values_list("task_name", "last_error")) == []
    debounce = services.RECOMPUTE_DEBOUNCE_SECONDS
    changed = wait_for(lambda: _recs(alice) not in (before, set()), timeout=debounce + 60)
    assert changed, "the worker did not recompute alice's recommendations"
    outerwear = {p.pk for p in products["Outerwear"][1:]}
    assert _recs(alice).isdisjoint(outerwear), "what she just rated is never recommended"
