"""The product's training on the sparse core: fold-in equals training, positive reasons in
words, per-brand tuning stored on the run, and signals across brands only with consent."""

import itertools
import time
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from accounts import outbox
from accounts.models import Purpose, PurposeConsent
from ledger.models import Event
from recommendations import selectors, services
from recommendations.ml import rank, tune
from recommendations.models import Recommendation, TrainingRun
from recommendations.training import artefacts
from recommendations.training import rank as training
from recommendations.training import run as training_run
from tests.factories import BrandFactory, CustomerFactory, ProductFactory
from tests.recommendations.conftest import rate
from transparency import services as transparency
from transparency.models import RetrainMark


def lists(customer, brand=None) -> list[tuple[int, int, float, bool]]:
    rows = Recommendation.objects.filter(customer=customer)
    if brand is not None:
        rows = rows.filter(brand=brand)
    return sorted(rows.values_list("rank", "product_id", "score", "is_popular"))


def test_a_recompute_gives_exactly_the_ease_list_training_gave(shop, crowd, alice, alice_history):
    brand, _ = shop
    run = services.train_brand(brand_id=brand.pk)
    assert run.algorithm == TrainingRun.Algorithm.EASE
    trained = lists(alice)
    assert trained and not any(popular for *_, popular in trained)

    services.customer_recompute(customer_id=alice.pk)

    assert lists(alice) == trained  # same picks, ranks and scores: history x B both times


def test_a_recompute_gives_the_als_list_training_gave(
    shop, crowd, alice, alice_history, monkeypatch
):
    brand, _ = shop
    monkeypatch.setattr(rank, "EASE_MAX_ITEMS", 0)
    run = services.train_brand(brand_id=brand.pk)
    assert run.algorithm == TrainingRun.Algorithm.ALS
    trained = lists(alice)

    services.customer_recompute(customer_id=alice.pk)

    again = lists(alice)
    assert [r[:2] for r in again] == [r[:2] for r in trained]
    assert np.allclose([r[2] for r in again], [r[2] for r in trained], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("large", [False, True])
def test_reasons_are_positive_signals_said_in_words(
    shop, crowd, alice, alice_history, monkeypatch, large
):
    brand, products = shop
    if large:
        monkeypatch.setattr(rank, "EASE_MAX_ITEMS", 0)
    neutral = rate(alice, brand, products["Gear"][0], 3.0, days_ago=1)
    rate(alice, brand, products["Footwear"][3], 0, days_ago=1, kind="add_to_cart")
    disliked = alice_history[3]  # 2 stars
    services.train_brand(brand_id=brand.pk)

    recs = [r for r in Recommendation.objects.filter(customer=alice) if not r.is_popular]
    assert recs and all(r.explanation for r in recs), "every personal card cites a signal"
    cites = [c for r in recs for c in r.explanation]
    assert {c["pk"] for c in cites}.isdisjoint({neutral.pk, disliked.pk})
    words = {c["label"] for c in cites}
    assert words <= {
        "rated Footwear 0 5★",
        "rated Footwear 1 5★",
        "rated Footwear 2 4★",
        "added Footwear 3 to your cart",
    }


def many_customers(brand, products, n=80, seed=0):
    """A brand big enough to tune on: two tastes, ratings spread over 60 days."""
    rng = np.random.default_rng(seed)
    now = timezone.now()
    groups = list(products.values())
    events = []
    for i in range(n):
        person = CustomerFactory(user__password=None)
        liked = groups[i % 2] + groups[2][:2]
        for product in rng.choice(liked, size=6, replace=False):
            events.append(
                Event(
                    customer=person,
                    brand=brand,
                    kind="rating",
                    value=float(rng.integers(4, 6)),
                    product=product,
                    occurred_at=now - timedelta(days=int(rng.integers(0, 60))),
                    source="observed",
                )
            )
    Event.objects.bulk_create(events)


def test_the_reg_is_tuned_per_brand_on_a_validation_cut_and_stored(shop):
    brand, products = shop
    many_customers(brand, products)
    data = selectors.training_data(brand_id=brand.pk)

    run = services.train_brand(brand_id=brand.pk)

    validation = run.metrics["validation"]
    assert validation["tuned"] and validation["users"] > 0
    tried = validation["grid"]["ease"]  # the whole grid, centred on the brand's size
    assert len(tried) == len(tune.STEPS["ease"]) and f"{run.reg:g}" in tried
    assert run.algorithm == "ease" and len(data.ratings) == run.n_ratings
    assert validation["ndcg_at_10"] == max(validation["grid"]["ease"].values())
    assert "popularity_ndcg_at_10" in validation

    # Unchanged data: the same choice (same lists); new data: a search around the last reg.
    assert services.train_brand(brand_id=brand.pk).reg == run.reg
    many_customers(brand, products, n=10, seed=1)
    third = services.train_brand(brand_id=brand.pk)
    assert third.reg in tune.grid("ease", 1, previous=run.reg)


@pytest.fixture
def sister(db):
    """Another brand of the group, where alice bought footwear."""
    other = BrandFactory(slug="sister", name="Sister Brand")
    boot = ProductFactory(brand=other, name="Sister boot", category="Footwear")
    return other, boot


def test_signals_cross_brands_only_when_the_customer_allows_it(shop, crowd, alice, sister):
    brand, products = shop
    other, boot = sister
    for product in products["Gear"][1:4]:  # alice at this brand: a little gear
        rate(alice, brand, product, 4.0, days_ago=2)
    elsewhere = rate(alice, other, boot, 5.0, days_ago=1)

    services.train_brand(brand_id=brand.pk)
    without = lists(alice, brand)
    cites = [c for r in Recommendation.objects.filter(customer=alice) for c in r.explanation]
    assert elsewhere.pk not in {c["pk"] for c in cites}

    # Provably nothing crosses without consent: the same lists with her other data gone.
    elsewhere.delete()
    services.train_brand(brand_id=brand.pk)
    assert lists(alice, brand) == without
    elsewhere = rate(alice, other, boot, 5.0, days_ago=1)

    PurposeConsent.objects.create(customer=alice, purpose=Purpose.CROSS_BRAND, granted=True)
    run = services.train_brand(brand_id=brand.pk)
    assert run.metrics["cross_brand_customers"] == 1
    recs = list(Recommendation.objects.filter(customer=alice, brand=brand))
    crossing = [c for r in recs for c in r.explanation if c["pk"] == elsewhere.pk]
    assert crossing and crossing[0]["label"] == "rated Sister boot 5★ at Sister Brand"
    assert crossing[0]["brand_id"] == other.pk
    footwear = {p.pk for p in products["Footwear"]}
    assert footwear & {r.product_id for r in recs if not r.is_popular}
    assert lists(alice, brand) != without

    # Fold-in uses the same consent: a recompute keeps the crossing reasons ...
    services.customer_recompute(customer_id=alice.pk)
    recs = list(Recommendation.objects.filter(customer=alice, brand=brand))
    assert any(c["pk"] == elsewhere.pk for r in recs for c in r.explanation)
    # ... and withdrawing it stops them at once, without a retrain.
    PurposeConsent.objects.filter(customer=alice, purpose=Purpose.CROSS_BRAND).update(granted=False)
    services.customer_recompute(customer_id=alice.pk)
    recs = list(Recommendation.objects.filter(customer=alice, brand=brand))
    assert not any(c["pk"] == elsewhere.pk for r in recs for c in r.explanation)
    assert lists(alice, brand) == without


def test_the_artefact_round_trips(shop, crowd, alice, alice_history, monkeypatch, tmp_path):
    brand, _ = shop
    for large in (False, True):
        monkeypatch.setattr(rank, "EASE_MAX_ITEMS", 0 if large else 5000)
        data = selectors.training_data(brand_id=brand.pk)
        fitted = training.fit_and_rank(data)
        path = tmp_path / f"{large}.npz"
        artefacts.save(path, fitted.artefact)
        loaded = artefacts.load(path)
        assert np.array_equal(loaded.item_ids, fitted.artefact.item_ids)
        assert loaded.categories is not None
        assert type(loaded.model) is type(fitted.artefact.model)


def test_chunks_scored_ahead_arrive_in_order_with_the_workers_error_and_stop_with_the_reader():
    """Training fits and scores on a worker thread (rank.Ahead): same items, same order; an
    error there is raised to the reader; a reader that stops (a failed write) stops the
    worker instead of leaving it scoring a whole brand for nobody."""
    assert list(training.Ahead(iter(range(50)), depth=2)) == list(range(50))

    def broken():
        yield 1
        raise ValueError("scoring failed")

    failing = iter(training.Ahead(broken(), depth=2))
    assert next(failing) == 1
    with pytest.raises(ValueError, match="scoring failed"):
        next(failing)

    produced: list[int] = []

    def endless():
        for i in itertools.count():
            produced.append(i)
            yield i

    reader = training.Ahead(endless(), depth=2)
    time.sleep(0.2)
    reader.close()  # never read: stopped and joined all the same
    stopped_at = len(produced)
    time.sleep(0.3)
    assert len(produced) == stopped_at <= 4

    produced.clear()
    reading = iter(training.Ahead(endless(), depth=2))
    assert next(reading) == 0
    reading.close()  # a reader that stops half-way
    stopped_at = len(produced)
    time.sleep(0.3)
    assert len(produced) == stopped_at <= 5


def test_an_als_retrain_starts_from_a_model_only_while_nothing_it_read_was_withdrawn(
    shop, monkeypatch
):
    """A retrain reusing the tuned reg starts ALS from the active model's item factors,
    unless data was withdrawn (switched off, deleted, erased, expired) at or after the
    time that model's chain of warm starts read its data: the run that answers a
    switch-off ("trained without it") is fitted from random factors, and so is any run
    after a withdrawal that a warm-started model may have read."""
    brand, products = shop
    monkeypatch.setattr(rank, "EASE_MAX_ITEMS", 0)
    monkeypatch.setattr(outbox, "publish", lambda *a, **kw: False)  # requests stay pending
    many_customers(brand, products)
    first = services.train_brand(brand_id=brand.pk)
    assert first.algorithm == "als" and first.metrics["validation"]["tuned"]
    # Tuned: the fit on all rows starts from the chosen value's fit on the validation cut.
    assert first.metrics["warm_start"] == {"from": "tuning", "iterations": 3}

    second = services.train_brand(brand_id=brand.pk)
    assert second.metrics["warm_start"] == {
        "from": "previous",
        "from_run": first.pk,
        "iterations": 3,
        "lineage_read_from": first.started_at.isoformat(),
    }

    events = Event.objects.filter(brand=brand).order_by("pk")
    off = events[0]
    transparency.datapoint_set_in_use(
        customer=off.customer, kind_name="event", pk=off.pk, in_use=False
    )
    asked = TrainingRun.objects.get(brand=brand, state="pending")
    assert asked.withdrawn_at is not None
    third = services.train_brand(brand_id=brand.pk, run_id=asked.pk)
    assert third.metrics["validation"]["reused_from_run"] == first.pk  # warm was possible
    assert "warm_start" not in third.metrics
    assert RetrainMark.objects.get(choice__customer=off.customer).training_run_id == third.pk

    fourth = services.train_brand(brand_id=brand.pk)  # nothing went since the third read
    assert fourth.metrics["warm_start"]["from_run"] == third.pk
    assert fourth.metrics["warm_start"]["lineage_read_from"] == third.started_at.isoformat()

    # A switch-off that lands after a run decided to start warm: that run may have read the
    # data, so it does not answer the switch-off, and the next run starts from nothing.
    late = events.exclude(customer=off.customer)[0]
    decided = training_run._warm_source

    def switched_off_right_after(brand_id, reuse):
        source = decided(brand_id, reuse)
        transparency.datapoint_set_in_use(
            customer=late.customer, kind_name="event", pk=late.pk, in_use=False
        )
        return source

    monkeypatch.setattr(training_run, "_warm_source", switched_off_right_after)
    fifth = services.train_brand(brand_id=brand.pk)
    monkeypatch.setattr(training_run, "_warm_source", decided)
    assert fifth.metrics["warm_start"]["from_run"] == fourth.pk
    mark = RetrainMark.objects.get(choice__customer=late.customer)
    assert mark.training_run_id is None
    asked = TrainingRun.objects.get(brand=brand, state="pending")
    sixth = services.train_brand(brand_id=brand.pk, run_id=asked.pk)
    assert "warm_start" not in sixth.metrics
    mark.refresh_from_db()
    assert mark.training_run_id == sixth.pk


def test_a_withdrawal_joining_a_waiting_retrain_marks_it(shop, monkeypatch):
    """A burst costs one retrain: a switch-off absorbed by a run already waiting (asked for
    by new data, say) still makes that run, and every one after it, start ALS from
    random factors rather than from a model that read the data."""
    brand, _ = shop
    monkeypatch.setattr(outbox, "publish", lambda *a, **kw: False)
    assert services.brand_retrain_request(brand_id=brand.pk, reason="new data")
    waiting = TrainingRun.objects.get(brand=brand)
    assert waiting.withdrawn_at is None
    assert not services.brand_retrain_request(brand_id=brand.pk, reason="off", withdrawn=True)
    waiting.refresh_from_db()
    assert waiting.withdrawn_at is not None
    assert TrainingRun.objects.filter(brand=brand).count() == 1
