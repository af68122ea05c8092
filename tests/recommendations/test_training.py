"""Training runs: erasure (D3), outbox (F1), idempotence and claims (F3), cold start, why."""

from pathlib import Path

import numpy as np
import pytest
from django.db import transaction

from accounts.append_only import history_rewrite
from accounts.models import OutboxMessage
from recommendations import selectors, services
from recommendations.ml import rank
from recommendations.models import InferredInterest, Recommendation, TrainingRun
from recommendations.training import rank as training
from tests.recommendations.conftest import rate


def test_it_trains_writes_results_and_an_npz_artefact(shop, crowd, alice, alice_history):
    brand, _ = shop
    run = services.train_brand(brand_id=brand.pk)

    assert run.state == TrainingRun.State.SUCCEEDED and run.is_active
    assert run.n_users == 17 and run.n_ratings > 50 and len(run.data_fingerprint) == 64
    assert Path(run.artefact_path).suffix == ".npz"
    with np.load(run.artefact_path, allow_pickle=False) as saved:  # no pickle inside
        assert alice.pk in saved["user_ids"].tolist()
    recs = Recommendation.objects.filter(customer=alice, brand=brand)
    assert recs.count() == training.TOP_N or recs.count() > 0
    assert not any(r.is_popular for r in recs)
    rated = {e.product_id for e in alice_history}
    assert rated.isdisjoint({r.product_id for r in recs}), "never recommend what they know"
    assert all(r.source == "inferred" for r in recs)
    assert InferredInterest.objects.filter(customer=alice, category="Footwear").exists()


def test_explanations_only_cite_the_owners_allowed_points(
    shop, crowd, alice, bob, alice_history, bob_history
):
    brand, _ = shop
    services.train_brand(brand_id=brand.pk)

    own = {e.pk for e in alice_history}
    bobs = {e.pk for e in bob_history}
    cites = [c for r in Recommendation.objects.filter(customer=alice) for c in r.explanation]
    assert cites, "alice's recommendations are explained"
    assert {c["pk"] for c in cites} <= own
    assert {c["pk"] for c in cites}.isdisjoint(bobs)
    assert all(c["label"].startswith("rated ") for c in cites)


def test_after_erasure_and_retrain_the_customer_is_gone_from_model_and_cache(
    shop, crowd, alice, alice_history
):
    brand, _ = shop
    first = services.train_brand(brand_id=brand.pk)
    customer_id = alice.pk
    payload = selectors.widget_items(brand=brand, customer=alice)
    assert payload["personalized"]
    assert selectors.cache.get(selectors.widget_cache_key(brand.pk, customer_id)) is not None

    # Erasure as the transparency app does it: their rows, their results, the customer
    # (through the one path the append-only audit table lets delete, as erasure does).
    with transaction.atomic(), history_rewrite(reason="erasure"):
        services.customer_results_purge(customer_id=customer_id)
        for event in alice_history:
            event.delete()
        user = alice.user
        alice.delete()
        user.delete()
    assert selectors.cache.get(selectors.widget_cache_key(brand.pk, customer_id)) is None

    second = services.train_brand(brand_id=brand.pk, reason="erasure")
    data = selectors.training_data(brand_id=brand.pk)
    assert customer_id not in data.users.tolist()
    with np.load(second.artefact_path, allow_pickle=False) as saved:
        assert customer_id not in saved["user_ids"].tolist()
    assert not Path(first.artefact_path).exists(), "superseded artefact deleted"
    assert not Recommendation.objects.filter(customer_id=customer_id).exists()


def test_a_rolled_back_transaction_publishes_no_task(
    shop, alice, django_capture_on_commit_callbacks, monkeypatch
):
    brand, _ = shop
    published = []
    monkeypatch.setattr("accounts.outbox.publish", lambda pk: published.append(pk))
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.customer_recompute_request(customer_id=alice.pk)
        services.brand_retrain_request(brand_id=brand.pk, reason="test")
        raise RuntimeError("the change failed")

    assert callbacks == [] and published == []
    assert OutboxMessage.objects.count() == 0
    assert TrainingRun.objects.count() == 0


def test_a_recompute_request_is_debounced_through_the_outbox(db, alice, monkeypatch):
    monkeypatch.setattr("accounts.outbox.publish", lambda pk: None)
    with transaction.atomic():
        services.customer_recompute_request(customer_id=alice.pk)
        services.customer_recompute_request(customer_id=alice.pk)

    message = OutboxMessage.objects.get()
    assert message.dedupe_key == f"recompute:{alice.pk}"
    assert message.kwargs == {"customer_id": alice.pk}
    assert 0 < message.countdown <= 10


def test_the_training_task_run_twice_leaves_one_result_set(shop, crowd, alice, alice_history):
    from recommendations.tasks import train_brand

    brand, _ = shop
    run = TrainingRun.objects.create(brand=brand)
    train_brand.apply(kwargs={"brand_id": brand.pk, "run_id": run.pk})
    first = sorted(Recommendation.objects.values_list("customer_id", "product_id", "rank"))
    train_brand.apply(kwargs={"brand_id": brand.pk, "run_id": run.pk})  # redelivered
    train_brand.apply(kwargs={"brand_id": brand.pk})  # a fresh run on the same data

    assert sorted(Recommendation.objects.values_list("customer_id", "product_id", "rank")) == first
    assert len(set(Recommendation.objects.values_list("training_run_id", flat=True))) == 1
    assert TrainingRun.objects.filter(is_active=True).count() == 1
    assert len(list(Path(run.artefact_path or ".").parent.glob("*.npz"))) <= 1


def test_the_claim_refuses_a_second_concurrent_claim(shop):
    brand, _ = shop
    run = TrainingRun.objects.create(brand=brand)

    assert services.training_run_claim(run_id=run.pk) is True
    assert services.training_run_claim(run_id=run.pk) is False
    assert services.train_brand(brand_id=brand.pk, run_id=run.pk) is None
    run.refresh_from_db()
    assert run.state == TrainingRun.State.RUNNING


def test_a_failed_run_is_recorded_and_keeps_the_previous_model_active(shop, crowd, monkeypatch):
    brand, _ = shop
    good = services.train_brand(brand_id=brand.pk)

    def broken(*args, **kwargs):
        raise ValueError("bad data")

    monkeypatch.setattr(rank, "fit", broken)  # the fit of either model
    with pytest.raises(ValueError):
        services.train_brand(brand_id=brand.pk)

    failed = TrainingRun.objects.exclude(pk=good.pk).get()
    assert failed.state == TrainingRun.State.FAILED and "bad data" in failed.error
    assert TrainingRun.objects.get(is_active=True) == good
    assert Path(good.artefact_path).exists()


def test_a_customer_with_too_little_data_gets_popular_items_labelled_cold_start(shop, crowd, alice):
    brand, products = shop
    rate(alice, brand, products["Gear"][1], 4.0)
    services.train_brand(brand_id=brand.pk)

    recs = list(Recommendation.objects.filter(customer=alice))
    assert recs and all(r.is_popular and r.explanation == [] for r in recs)
    assert products["Gear"][1].pk not in {r.product_id for r in recs}
    payload = selectors.widget_items(brand=brand, customer=alice)
    assert payload["personalized"] is False
    assert payload["label"] == selectors.POPULAR_LABEL


def test_a_recompute_folds_in_new_data_without_a_retrain(shop, crowd, alice, alice_history):
    brand, products = shop
    run = services.train_brand(brand_id=brand.pk)
    before = set(Recommendation.objects.filter(customer=alice).values_list("product_id", "rank"))

    for product in products["Outerwear"][1:]:
        rate(alice, brand, product, 5.0, days_ago=0)
    services.customer_recompute(customer_id=alice.pk)

    after = Recommendation.objects.filter(customer=alice)
    assert set(after.values_list("product_id", "rank")) != before
    assert {r.training_run_id for r in after} == {run.pk}
    assert TrainingRun.objects.count() == 1


def test_large_catalogues_rank_with_als_and_still_explain_with_own_points(
    shop, crowd, alice, bob, alice_history, bob_history, monkeypatch
):
    brand, _ = shop
    monkeypatch.setattr(rank, "EASE_MAX_ITEMS", 0)  # every catalogue is "large": ALS ranks
    run = services.train_brand(brand_id=brand.pk)

    assert run.algorithm == TrainingRun.Algorithm.ALS
    recs = list(Recommendation.objects.filter(customer=alice))
    # Only picks a positive signal of hers raised are personal (ALS scores can be <= 0).
    assert 0 < len(recs) <= training.TOP_N and not any(r.is_popular for r in recs)
    assert sorted(r.rank for r in recs) == list(range(1, len(recs) + 1))
    assert all(r.explanation for r in recs), "every personal card cites a signal"
    assert {e.product_id for e in alice_history}.isdisjoint({r.product_id for r in recs})
    cites = [c for r in recs for c in r.explanation]
    assert cites and {c["pk"] for c in cites} <= {e.pk for e in alice_history}
    assert {c["pk"] for c in cites}.isdisjoint({e.pk for e in bob_history})
    assert services.customer_recompute(customer_id=alice.pk) > 0  # folds in with ALS factors
    assert Recommendation.objects.filter(customer=alice, training_run=run).count() == len(recs)
