"""The dashboard's Recommendations page: the why, feedback, "don't use this", ownership."""

from django.urls import reverse

from accounts.models import ConsentEvent, OutboxMessage
from ledger.models import Event
from recommendations import services
from recommendations.models import Recommendation


def test_it_shows_each_recommendation_with_its_why_and_links(
    shop, crowd, alice, alice_client, alice_history, django_assert_max_num_queries
):
    brand, _ = shop
    services.train_brand(brand_id=brand.pk)
    rec = next(r for r in Recommendation.objects.filter(customer=alice) if r.explanation)
    cite = rec.explanation[0]

    # 8 of these are session bookkeeping every page pays; ours are constant in the data size
    # (one of them reads the switches, so off acts before any recompute).
    with django_assert_max_num_queries(14):
        response = alice_client.get(reverse("dashboard:recommendations"))

    page = response.content.decode()
    assert "Why:" in page and cite["label"] in page
    assert reverse("dashboard:data_point", args=[cite["kind"], cite["pk"]]) in page
    assert reverse("dashboard:data_point_use", args=[cite["kind"], cite["pk"]]) in page
    assert reverse("dashboard:rec_not_interested", args=[rec.product_id]) in page
    assert "Interests we inferred" in page and "Footwear" in page


def test_a_customer_with_nothing_sees_the_cold_start_label(shop, crowd, alice_client):
    brand, _ = shop
    services.train_brand(brand_id=brand.pk)

    page = alice_client.get(reverse("dashboard:recommendations")).content.decode()

    assert "we know little about you yet" in page


def test_dont_use_this_switches_the_point_off_records_consent_and_asks_for_a_recompute(
    shop, crowd, alice, alice_client, alice_history, monkeypatch
):
    monkeypatch.setattr("accounts.outbox.publish", lambda pk: None)
    brand, _ = shop
    services.train_brand(brand_id=brand.pk)
    event = alice_history[0]

    response = alice_client.post(
        reverse("dashboard:data_point_use", args=["event", event.pk]),
        {"in_use": "0", "next": reverse("dashboard:recommendations")},
    )

    assert response.status_code == 302
    assert response.url == reverse("dashboard:recommendations")
    event.refresh_from_db()
    assert event.in_use is False
    assert ConsentEvent.objects.filter(
        customer=alice, data_kind="event", object_ref=str(event.pk), granted=False
    ).exists()
    assert OutboxMessage.objects.filter(dedupe_key=f"recompute:{alice.pk}").exists()


def test_not_interested_records_an_event_the_model_reads_and_hides_the_item(
    shop, crowd, alice, alice_client, alice_history
):
    brand, _ = shop
    services.train_brand(brand_id=brand.pk)
    rec = Recommendation.objects.filter(customer=alice).first()

    alice_client.post(reverse("dashboard:rec_not_interested", args=[rec.product_id]))

    assert Event.objects.filter(customer=alice, product=rec.product, kind="not_interested").exists()
    assert not Recommendation.objects.filter(customer=alice, product=rec.product).exists()


def test_another_customers_ids_answer_404(shop, crowd, alice_client, bob, bob_history):
    brand, _ = shop
    services.train_brand(brand_id=brand.pk)
    bobs_rec = Recommendation.objects.filter(customer=bob).first()
    bobs_event = bob_history[0]

    # alice has nothing with bob's brand, so its products are not hers to dismiss.
    not_interested = reverse("dashboard:rec_not_interested", args=[bobs_rec.product_id])
    assert alice_client.post(not_interested).status_code == 404
    assert not Event.objects.filter(kind="not_interested").exists()
    use = "dashboard:data_point_use"
    assert alice_client.post(reverse(use, args=["event", bobs_event.pk])).status_code == 404
    assert alice_client.post(reverse(use, args=["bogus", 1])).status_code == 404
    bobs_event.refresh_from_db()
    assert bobs_event.in_use is True


def test_actions_are_post_only(alice_client):
    use = reverse("dashboard:data_point_use", args=["event", 1])
    assert alice_client.get(use).status_code == 405


def test_not_interested_names_the_product_so_a_page_older_than_a_recompute_still_works(
    shop, crowd, alice, alice_client, alice_history
):
    brand, _ = shop
    services.train_brand(brand_id=brand.pk)
    shown = Recommendation.objects.filter(customer=alice).first()
    Recommendation.objects.filter(customer=alice).delete()  # a recompute replaced every row
    services.customer_recompute(customer_id=alice.pk)

    response = alice_client.post(reverse("dashboard:rec_not_interested", args=[shown.product_id]))

    assert response.status_code == 302
    assert Event.objects.filter(customer=alice, product_id=shown.product_id, kind="not_interested")
