"""The overview "at a glance": what is held, from where, by whom, in use or not, what goes
soon, who looked, which model used it; charts with their tables; bounded queries."""

from datetime import date, timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.audit import Actor, audit_record
from accounts.models import CustomerBrand, KindSetting, Sensitivity
from ledger.models import Event
from recommendations.models import Recommendation, TrainingRun
from tests.factories import (
    AddressFactory,
    BrandFactory,
    EventFactory,
    OrderFactory,
    ProductFactory,
)
from transparency import charts, overview


@pytest.fixture
def shop(db):
    return BrandFactory(slug="acme", name="Acme Outdoors")


@pytest.fixture
def bank(db):
    return BrandFactory(slug="harbor", name="Harbor Bank", sensitivity=Sensitivity.BANKING)


def _event(customer, brand, days_ago: int, **fields):
    return EventFactory(
        customer=customer,
        brand=brand,
        product=ProductFactory(brand=brand),
        occurred_at=timezone.now() - timedelta(days=days_ago),
        **fields,
    )


def test_it_counts_what_is_held_by_source_brand_and_kind(alice, shop):
    for days in (1, 2, 40):
        _event(alice, shop, days)
    OrderFactory(customer=alice, brand=shop)
    AddressFactory(customer=alice)

    ov = overview.overview(customer=alice)

    by_kind = {k.kind.name: k.count for k in ov.by_kind}
    assert by_kind["event"] == 3 and by_kind["order"] == 1 and by_kind["address"] == 1
    assert by_kind["account"] == 1 and by_kind["access_log"] >= 1  # her sign-up
    assert "payment_method" not in by_kind  # kinds holding nothing are not listed
    by_source = {c.key: c.count for c in ov.by_source}
    assert by_source["observed"] == 3 + 1 + by_kind["access_log"]
    assert sum(by_source.values()) == ov.total == sum(by_kind.values())
    by_brand = {c.label: c.count for c in ov.by_brand}
    assert by_brand["Acme Outdoors"] == 4
    assert by_brand["Your account (no brand)"] == ov.total - 4


def test_switched_off_points_and_kinds_are_counted_as_not_in_use(alice, shop):
    _event(alice, shop, 1, in_use=False)
    _event(alice, shop, 2)
    OrderFactory.create_batch(2, customer=alice, brand=shop)
    KindSetting.objects.create(customer=alice, data_kind="order", in_use=False)

    ov = overview.overview(customer=alice)

    kinds = {k.kind.name: k for k in ov.by_kind}
    assert (kinds["event"].count, kinds["event"].off, kinds["event"].in_use) == (2, 1, 1)
    assert (kinds["order"].off, kinds["order"].in_use) == (2, 0)
    assert "Orders" in ov.kinds_off
    assert ov.in_use + ov.switched_off == ov.total
    assert ov.switched_off >= 3


def test_it_counts_what_is_deleted_within_30_days_with_each_brands_retention(alice, shop, bank):
    _event(alice, shop, 350)  # retail keeps activity 365 days: 15 left
    _event(alice, shop, 300)  # 65 left
    _event(alice, bank, 70)  # banking keeps it 90 days: 20 left
    _event(alice, bank, 10)

    ov = overview.overview(customer=alice)

    assert ov.expiring == 2
    assert [(k.kind.name, k.expiring) for k in ov.expiring_kinds] == [("event", 2)]


def test_the_retention_timeline_places_each_point_in_the_month_it_goes(alice, shop):
    today = date(2026, 6, 15)
    when = timezone.make_aware(timezone.datetime(2025, 9, 10, 12))
    EventFactory(customer=alice, brand=shop, product=ProductFactory(brand=shop), occurred_at=when)

    ov = overview.overview(customer=alice, today=today)

    # 10 Sep 2025 + 365 days = 10 Sep 2026: the fourth month of the timeline.
    assert ov.timeline[0][0] == date(2026, 6, 1)
    assert dict(ov.timeline)[date(2026, 9, 1)] == 1
    assert sum(n for _, n in ov.timeline) == 1 and ov.timeline_later == 0


def test_new_data_per_month_covers_the_last_twelve_months_by_source(alice, shop):
    today = timezone.localdate()
    _event(alice, shop, 0)
    _event(alice, shop, 400)  # older than the chart

    ov = overview.overview(customer=alice)

    assert len(ov.months) == 12
    assert ov.months[-1][0] == today.replace(day=1)
    assert ov.months[-1][1]["observed"] >= 1
    assert sum(sum(v.values()) for _, v in ov.months if _ != today.replace(day=1)) == 0


def test_it_shows_the_last_accesses_by_others_in_words_never_her_own(alice, shop, charlie):
    with transaction.atomic():
        audit_record(
            actor=Actor.staff(charlie),
            customer=alice,
            data_kind="order",
            action="view",
            reason="refund",
        )

    ov = overview.overview(customer=alice)

    assert [a.sentence for a in ov.accesses] == [
        "Staff member charlie looked at your orders (reason given: refund)"
    ]


def test_it_names_the_model_version_that_last_used_her_data(alice, shop):
    run = TrainingRun.objects.create(
        brand=shop, state="succeeded", algorithm="ease", is_active=True, finished_at=timezone.now()
    )
    Recommendation.objects.create(
        customer=alice, brand=shop, product=ProductFactory(brand=shop), rank=1, score=1.0,
        training_run=run,
    )  # fmt: skip

    (model,) = overview.overview(customer=alice).models

    assert (model.brand, model.version) == ("Acme Outdoors", run.pk)
    assert model.algorithm.startswith("EASE")


def test_purposes_off_by_a_brands_defaults_are_listed(alice, bank):
    CustomerBrand.objects.create(customer=alice, brand=bank, external_ref="a-1")

    ov = overview.overview(customer=alice)

    assert "Personalized recommendations" in ov.purposes_off


def test_the_page_draws_each_chart_with_a_text_equivalent_and_no_style_attribute(
    alice_client, alice, shop
):
    _event(alice, shop, 3)

    page = alice_client.get(reverse("dashboard:home")).content.decode()

    assert page.count('<svg class="chart"') == 4
    assert page.count('role="img"') == 4 and page.count("<desc id=") == 4
    assert page.count('class="chart-table"') == 4  # the numbers behind each chart
    assert "Observed from your activity: " in page  # the sentence the chart reads as
    assert "style=" not in page
    assert "Acme Outdoors" in page


def test_bars_scale_to_the_biggest_value_and_keep_small_ones_visible():
    chart = charts.bars([("a", 1000, "x"), ("b", 1, "y"), ("c", 0, "z")])

    widths = [r.width for r in chart.rects]
    assert widths[0] == charts.WIDTH - 56
    assert widths[1] == 2.0 and widths[2] == 0.0
    assert charts.short_number(12_345) == "12k" and charts.short_number(1_234) == "1.2k"


@pytest.mark.parametrize("events", [500, 10_000])
def test_the_overview_runs_a_bounded_number_of_queries(
    alice_client, alice, shop, bank, events, django_assert_max_num_queries
):
    products = [ProductFactory(brand=shop), ProductFactory(brand=bank)]
    now = timezone.now()
    Event.objects.bulk_create(
        Event(
            customer=alice,
            brand=products[n % 2].brand,
            product=products[n % 2],
            kind="view",
            occurred_at=now - timedelta(hours=n),
            in_use=n % 5 != 0,
        )
        for n in range(events)
    )
    OrderFactory.create_batch(3, customer=alice, brand=shop)
    alice_client.get(reverse("dashboard:home"))  # session bookkeeping out of the way

    # The same bound as every dashboard page; 5 queries are the overview's own.
    with django_assert_max_num_queries(16):
        response = alice_client.get(reverse("dashboard:home"))

    assert response.status_code == 200
    total = overview.overview(customer=alice).total
    assert total > events
    assert f'<span class="tile-figure">{total}</span>' in response.content.decode()
