"""Switching off (or deleting) asks the brand's model to be retrained without the data at
once, a burst of switches costs one retrain, and the choice history names the model
version trained without it."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import outbox
from accounts.models import OutboxMessage
from recommendations import services as rec_services
from recommendations.models import TrainingRun
from recommendations.training import extract as rec_extract
from tests.factories import BrandFactory, CustomerFactory, EventFactory, ProductFactory
from transparency import services
from transparency.models import DeletionReceipt, RetrainMark


@pytest.fixture
def worker_down(monkeypatch):
    """Messages are recorded but nobody publishes them until relay_pending (eager)."""
    monkeypatch.setattr(outbox, "publish", lambda *a, **kw: False)
    return monkeypatch


@pytest.fixture
def brand(db):
    return BrandFactory(slug="acme", name="Acme")


@pytest.fixture
def people(brand, alice, bob):
    products = [ProductFactory(brand=brand) for _ in range(4)]
    events = {}
    for person in (alice, bob, *[CustomerFactory(user__password=None) for _ in range(3)]):
        events[person.pk] = [
            EventFactory(customer=person, brand=brand, product=p, kind="view") for p in products
        ]
    return events


def _train_messages():
    return OutboxMessage.objects.filter(task_name="recommendations.train_brand")


def test_switching_a_kind_off_asks_for_a_retrain_of_its_brands(alice, brand, people, worker_down):
    other = BrandFactory(slug="quiet")  # alice has no data there: nothing to retrain

    services.kind_set_in_use(customer=alice, kind_name="event", in_use=False)

    runs = TrainingRun.objects.filter(state="pending")
    assert list(runs.values_list("brand_id", flat=True)) == [brand.pk]
    assert not TrainingRun.objects.filter(brand=other).exists()
    message = _train_messages().get()
    assert 0 < message.countdown <= 10  # a short debounce, never a long broker ETA
    assert RetrainMark.objects.filter(brand=brand, training_run__isnull=True).count() == 1


def test_switching_personalization_off_asks_for_a_retrain(alice, brand, people, worker_down):
    services.purpose_set_granted(customer=alice, purpose="personalization", granted=False)

    assert TrainingRun.objects.filter(brand=brand, state="pending").count() == 1


def test_switching_back_on_asks_for_nothing(alice, brand, people, worker_down):
    services.kind_set_in_use(customer=alice, kind_name="recommendation", in_use=False)
    assert not TrainingRun.objects.exists()  # results are not training data


def test_a_burst_of_twenty_switches_costs_one_retrain(alice, bob, brand, people, worker_down):
    toggles = [
        lambda: services.kind_set_in_use(customer=alice, kind_name="event", in_use=False),
        lambda: services.kind_set_in_use(customer=alice, kind_name="event", in_use=True),
        lambda: services.purpose_set_granted(
            customer=bob, purpose="personalization", granted=False
        ),
        lambda: services.purpose_set_granted(customer=bob, purpose="personalization", granted=True),
    ]
    done = 0
    for _ in range(3):
        for toggle in toggles:
            assert toggle()
            done += 1
    for event in people[alice.pk] + people[bob.pk][:4]:
        if done == 20:
            break
        assert services.datapoint_set_in_use(
            customer=event.customer, kind_name="event", pk=event.pk, in_use=False
        )
        done += 1
    assert done == 20

    assert TrainingRun.objects.count() == 1
    assert _train_messages().count() == 1
    worker_down.undo()
    outbox.relay_pending()  # eager: the recomputes and the one retrain run now

    run = TrainingRun.objects.get()
    assert run.state == "succeeded" and run.is_active
    marks = RetrainMark.objects.all()
    assert marks.count() == 14  # one per switch-off (switching on asks for nothing)
    assert set(marks.values_list("training_run_id", flat=True)) == {run.pk}


def test_a_deletion_receipt_is_marked_by_the_run_that_trained_without_it(
    alice, brand, people, worker_down
):
    services.purpose_set_granted(customer=alice, purpose="personalization", granted=False)
    receipt = services.data_delete(customer=alice, scope="kind", kind_name="event")
    assert TrainingRun.objects.count() == 1  # the deletion joins the retrain already waiting

    worker_down.undo()
    outbox.relay_pending()

    run = TrainingRun.objects.get(state="succeeded")
    receipt.refresh_from_db()
    assert receipt.model_versions_after == {str(brand.pk): run.pk}


def test_a_switch_after_the_run_read_its_data_waits_for_the_next_run(
    alice, bob, brand, people, worker_down
):
    services.kind_set_in_use(customer=alice, kind_name="event", in_use=False)
    first = TrainingRun.objects.get()
    read = rec_extract.training_data

    def bob_switches_right_after_the_read(**kwargs):
        data = read(**kwargs)
        services.kind_set_in_use(customer=bob, kind_name="event", in_use=False)
        return data

    worker_down.setattr(rec_extract, "training_data", bob_switches_right_after_the_read)
    rec_services.train_brand(brand_id=brand.pk, run_id=first.pk)

    first.refresh_from_db()
    assert first.state == "succeeded"
    assert RetrainMark.objects.get(choice__customer=alice).training_run_id == first.pk
    assert RetrainMark.objects.get(choice__customer=bob).training_run_id is None
    assert TrainingRun.objects.filter(state="pending").count() == 1  # his own retrain


def test_the_choice_history_names_the_model_trained_without_it(
    alice, alice_client, brand, people, worker_down
):
    services.kind_set_in_use(customer=alice, kind_name="event", in_use=False)
    url = reverse("dashboard:data_kind", args=["consent_history"])
    waiting = alice_client.get(url).content.decode()
    assert "Acme: retraining without it" in waiting

    worker_down.undo()
    outbox.relay_pending()

    run = TrainingRun.objects.get(state="succeeded")
    page = re.sub(r"<[^>]+>", "", alice_client.get(url).content.decode())
    when = timezone.localtime(run.finished_at)
    assert f"Acme: model of {when:%-d %b %H:%M} trained without it" in page
    assert DeletionReceipt.objects.count() == 0
