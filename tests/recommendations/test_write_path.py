"""The write path of results (training.writer): what a write stores, on SQLite
(executemany) and PostgreSQL (COPY) alike.

Rewriting a scope must store exactly the rows given: values, timestamps of this write, the
new training run, and each key's "keep but don't use" choice carried over; nothing of
another brand or customer moves; a retrain audits every customer touched, in the same
transaction as the results and the flip of the active run.
"""

import json

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import AuditEvent
from ledger.models import Product
from recommendations import services
from recommendations.models import (
    ContactHourInference,
    InferredInterest,
    Recommendation,
    TrainingRun,
)
from recommendations.training import extract, writer
from recommendations.training import rank as training
from tests.factories import BrandFactory, CustomerFactory, ProductFactory
from tests.recommendations.conftest import rate

REC = ("customer_id", "product_id", "rank", "score", "is_popular", "explanation", "in_use")
COMMON = ("brand_id", "source", "training_run_id")


@pytest.fixture
def setting(shop, alice, bob):
    brand, products = shop
    carol = CustomerFactory(user__password=None)
    items = [p.pk for group in products.values() for p in group]
    runs = [TrainingRun.objects.create(brand=brand) for _ in range(3)]
    return brand, [alice.pk, bob.pk, carol.pk], items, [r.pk for r in runs]


def why(pk: int) -> str:
    return json.dumps([{"kind": "event", "pk": pk, "label": f"rated {pk}", "date": "2026-01-02"}])


def recs(rows) -> services.Recs:
    """Recs from (customer, product, rank, score, popular, explanation) rows."""
    return services.Recs(*zip(*rows, strict=True)) if rows else services.Recs()


def stored_recs(brand) -> list[tuple]:
    rows = Recommendation.objects.filter(brand=brand).values_list(*REC)
    return sorted((*r[:5], json.dumps(r[5], sort_keys=True), r[6]) for r in rows)


def expected(rows, off=()) -> list[tuple]:
    """Rows as a delete-and-insert write stores them: a key switched off before stays off."""
    off = set(off)
    return sorted(
        (*r[:5], json.dumps(json.loads(r[5]), sort_keys=True), (r[0], r[1]) not in off)
        for r in rows
    )


def write(brand, rows, interests=(), hours=(), *, run_id, customer_id=None):
    scope = {"brand_id": brand.pk}
    if customer_id is not None:
        scope["customer_id"] = customer_id
    before = timezone.now()
    with transaction.atomic():
        writer.results_write(scope, recs(rows), list(interests), list(hours), run_id=run_id)
    return before


def assert_written_now(model, brand, since, run_id=None):
    """Every row of the brand carries this write's stamps (and run), like a fresh insert."""
    stamps = set(model.objects.filter(brand=brand).values_list("created_at", "updated_at"))
    assert len(stamps) == 1
    created, updated = stamps.pop()
    assert created == updated and created >= since.replace(microsecond=0)
    common = set(model.objects.filter(brand=brand).values_list(*COMMON[:2]))
    assert common == {(brand.pk, "inferred")}
    if run_id is not None:
        runs = set(model.objects.filter(brand=brand).values_list("training_run_id", flat=True))
        assert runs == {run_id}


def test_a_first_write_stores_exactly_the_rows_given(setting):
    brand, (a, b, c), items, (run, _, _) = setting
    rows = [(a, items[0], 1, 0.9, False, why(1)), (a, items[1], 2, 0.5, False, "[]")]
    rows += [(b, items[2], 1, 0.0, True, "[]")]

    since = write(brand, rows, [(a, "Footwear", 0.7), (b, "Gear", 1.0)], [(c, 19, 0.5)], run_id=run)

    assert stored_recs(brand) == expected(rows)
    assert_written_now(Recommendation, brand, since, run)
    interests = InferredInterest.objects.filter(brand=brand)
    assert sorted(interests.values_list("customer_id", "category", "weight", "in_use")) == sorted(
        [(a, "Footwear", 0.7, True), (b, "Gear", 1.0, True)]
    )
    hours = ContactHourInference.objects.filter(brand=brand)
    assert list(hours.values_list("customer_id", "hour", "confidence", "in_use")) == [
        (c, 19, 0.5, True)
    ]
    assert_written_now(InferredInterest, brand, since)
    assert_written_now(ContactHourInference, brand, since)


def test_a_rewrite_keeps_stays_replaces_and_drops_and_carries_switched_off(setting):
    brand, (a, b, c), items, (run1, run2, _) = setting
    first = [
        (a, items[0], 1, 0.9, False, why(1)),  # stays, switched off: stays off
        (a, items[1], 2, 0.8, False, why(2)),  # stays, new rank, score and why
        (a, items[2], 3, 0.7, False, why(3)),  # leaves
        (b, items[3], 1, 0.6, False, why(4)),  # leaves, switched off
        (b, items[4], 2, 0.5, False, why(5)),  # stays unchanged but for the run
    ]
    write(brand, first, [(a, "Footwear", 0.7), (b, "Gear", 0.2)], [(a, 8, 0.4), (b, 9, 0.3)],
          run_id=run1)  # fmt: skip
    Recommendation.objects.filter(customer_id=a, product_id=items[0]).update(in_use=False)
    Recommendation.objects.filter(customer_id=b, product_id=items[3]).update(in_use=False)
    InferredInterest.objects.filter(customer_id=a).update(in_use=False)
    ContactHourInference.objects.filter(customer_id=b).update(in_use=False)

    second = [
        (a, items[1], 1, 0.95, False, why(12)),
        (a, items[0], 2, 0.85, False, why(1)),
        (a, items[5], 3, 0.10, False, "[]"),  # new
        (b, items[4], 2, 0.5, False, why(5)),
        (c, items[6], 1, 0.0, True, "[]"),  # new customer
    ]
    since = write(
        brand,
        second,
        [(a, "Footwear", 0.9), (a, "Gear", 0.1), (c, "Gear", 1.0)],  # b's interest leaves
        [(a, 10, 0.6), (b, 11, 0.2)],
        run_id=run2,
    )

    assert stored_recs(brand) == expected(second, off=[(a, items[0])])
    assert_written_now(Recommendation, brand, since, run2)
    interests = InferredInterest.objects.filter(brand=brand)
    assert sorted(interests.values_list("customer_id", "category", "weight", "in_use")) == sorted(
        [(a, "Footwear", 0.9, False), (a, "Gear", 0.1, True), (c, "Gear", 1.0, True)]
    )
    hours = ContactHourInference.objects.filter(brand=brand)
    assert sorted(hours.values_list("customer_id", "hour", "confidence", "in_use")) == [
        (a, 10, 0.6, True),
        (b, 11, 0.2, False),
    ]
    assert_written_now(InferredInterest, brand, since)
    assert_written_now(ContactHourInference, brand, since)

    # A key that left and comes back is new again: in use.
    third = [(b, items[3], 1, 0.3, False, why(4))]
    write(brand, third, run_id=run2)
    assert stored_recs(brand) == expected(third)
    assert not InferredInterest.objects.filter(brand=brand).exists()
    assert not ContactHourInference.objects.filter(brand=brand).exists()


def test_a_write_leaves_other_brands_and_other_customers_alone(setting):
    brand, (a, b, _), items, (run1, run2, _) = setting
    other = BrandFactory(slug="other")
    product = ProductFactory(brand=other)
    other_run = TrainingRun.objects.create(brand=other)
    theirs = [(a, product.pk, 1, 0.4, False, why(9))]
    write(other, theirs, [(a, "Misc", 0.5)], [(a, 7, 0.5)], run_id=other_run.pk)
    both = [(a, items[0], 1, 0.9, False, why(1)), (b, items[1], 1, 0.8, False, why(2))]
    write(brand, both, run_id=run1)

    write(brand, [(a, items[2], 1, 0.7, False, "[]")], run_id=run2, customer_id=a)  # recompute
    assert stored_recs(brand) == expected([(a, items[2], 1, 0.7, False, "[]"), both[1]])
    write(brand, [], run_id=run2)  # nobody left in the brand

    assert not Recommendation.objects.filter(brand=brand).exists()
    assert stored_recs(other) == expected(theirs)
    assert InferredInterest.objects.filter(brand=other).count() == 1
    assert ContactHourInference.objects.filter(brand=other).count() == 1


def test_two_stored_rows_of_one_key_become_one_switched_off_if_either_was(setting):
    brand, (a, _, _), items, (run1, run2, _) = setting
    twice = [(a, items[0], 1, 0.9, False, why(1)), (a, items[0], 2, 0.8, False, why(1))]
    write(brand, twice, run_id=run1)  # never so from ranking; stored as given
    assert stored_recs(brand) == expected(twice)
    Recommendation.objects.filter(rank=2).update(in_use=False)

    again = [(a, items[0], 1, 0.7, False, why(2)), (a, items[1], 2, 0.6, False, "[]")]
    write(brand, again, run_id=run2)

    assert stored_recs(brand) == expected(again, off=[(a, items[0])])


def customers_with_results(brand, *models) -> set[int]:
    return {
        c
        for m in models
        for c in m.objects.filter(brand=brand).values_list("customer_id", flat=True)
    }


def test_a_retrain_stores_what_it_ranked_and_audits_everyone_touched(
    shop, crowd, alice, bob, alice_history, bob_history, monkeypatch
):
    brand, products = shop
    ranked = []
    fit_and_rank = training.fit_and_rank

    def spy(data, **kwargs):
        """Record the rows as the writer takes them (training ranks while it writes)."""
        result = fit_and_rank(data, **kwargs)
        ranked.append(seen := services.Recs())
        chunks = result.chunks if result.chunks is not None else iter([result.recommendations])

        def recording():
            for chunk in chunks:
                seen.extend(chunk)
                yield chunk

        result.chunks = recording()
        return result

    monkeypatch.setattr(training, "fit_and_rank", spy)
    first = services.train_brand(brand_id=brand.pk)
    off = Recommendation.objects.filter(customer=alice).order_by("rank").first()
    Recommendation.objects.filter(pk=off.pk).update(in_use=False)
    for product in products["Footwear"][:4]:  # bob's taste moves: pairs stay, go and come
        rate(bob, brand, product, 5.0, days_ago=1)
    bob_before = set(Recommendation.objects.filter(customer=bob).values_list("product_id"))
    touched = customers_with_results(brand, Recommendation, InferredInterest)
    audits_before = AuditEvent.objects.count()

    second = services.train_brand(brand_id=brand.pk)

    columns = [getattr(ranked[1], name) for name in services.Recs.FIELDS]
    rows = list(zip(*columns, strict=True))
    assert set(Recommendation.objects.filter(customer=bob).values_list("product_id")) != bob_before
    assert stored_recs(brand) == expected(rows, off=[(alice.pk, off.product_id)])
    assert set(Recommendation.objects.values_list("training_run_id", flat=True)) == {second.pk}
    assert second.is_active and not TrainingRun.objects.get(pk=first.pk).is_active
    touched |= customers_with_results(brand, Recommendation, InferredInterest, ContactHourInference)
    audits = AuditEvent.objects.order_by("pk")[audits_before:]
    assert sorted(a.customer_id for a in audits) == sorted(touched)
    assert {(a.actor_label, a.action, a.data_kind, a.actor_brand_id) for a in audits} == {
        ("recommendations.train_brand", "recompute", "recommendation", brand.pk)
    }


def test_a_retrain_that_fails_while_auditing_writes_nothing(
    shop, crowd, alice, alice_history, monkeypatch
):
    brand, _ = shop
    first = services.train_brand(brand_id=brand.pk)
    before = stored_recs(brand)
    stamps = set(Recommendation.objects.values_list("created_at", "training_run_id"))
    interests = sorted(InferredInterest.objects.values_list("customer_id", "category", "weight"))

    def broken(*args, **kwargs):
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(writer, "brand_results_audit", broken)
    with pytest.raises(RuntimeError):
        services.train_brand(brand_id=brand.pk)

    assert stored_recs(brand) == before
    assert set(Recommendation.objects.values_list("created_at", "training_run_id")) == stamps
    assert sorted(InferredInterest.objects.values_list("customer_id", "category", "weight")) == (
        interests
    )
    assert TrainingRun.objects.get(is_active=True).pk == first.pk


def test_a_retrain_audits_a_customer_whose_only_row_was_a_contact_hour(
    shop, crowd, alice, alice_history
):
    brand, _ = shop
    services.train_brand(brand_id=brand.pk)
    carol = CustomerFactory(user__password=None)
    ContactHourInference.objects.create(customer=carol, brand=brand, hour=9, confidence=0.5)

    services.train_brand(brand_id=brand.pk)

    assert not ContactHourInference.objects.filter(customer=carol).exists()
    assert AuditEvent.objects.filter(
        customer=carol, actor_label="recommendations.train_brand", action="recompute"
    ).exists()


def test_ranking_while_writing_stores_what_ranking_at_once_gives(shop, crowd, alice, bob):
    """Training streams its chunks into the write; the rows are those of a whole ranking."""
    brand, products = shop
    for product in products["Footwear"][:3]:
        rate(alice, brand, product, 5.0, days_ago=2)
        rate(bob, brand, product, 4.0, days_ago=1)
    data = extract.training_data(brand_id=brand.pk)
    whole = training.fit_and_rank(data)
    streamed = training.fit_and_rank(data, stream=True)
    assert len(streamed.recommendations) == 0 and streamed.chunks is not None
    rows = services.Recs()
    for chunk in streamed.rows():
        rows.extend(chunk)
    assert len(whole.recommendations) > 0
    for name in services.Recs.FIELDS:
        assert getattr(rows, name) == getattr(whole.recommendations, name), name
    # The cold-start count is filled in once everyone is ranked.
    assert streamed.metrics["cold_start_customers"] == whole.metrics["cold_start_customers"]


def test_a_product_deleted_while_training_gets_no_row_and_nothing_points_nowhere(
    shop, crowd, alice, alice_history, monkeypatch
):
    """Result tables carry no database constraint (models.ResultRow): the writer drops rows
    for a product deleted after the data was read, and deleting a product, a brand or a
    customer through the ORM still takes their result rows with them."""
    brand, _ = shop
    services.train_brand(brand_id=brand.pk)
    gone = Recommendation.objects.filter(customer=alice).order_by("rank").first().product
    training_data = extract.training_data

    def read_then_delete(**kwargs):
        data = training_data(**kwargs)
        gone.delete()  # after the data was read (and ranked with it), before the write
        return data

    monkeypatch.setattr(extract, "training_data", read_then_delete)
    services.train_brand(brand_id=brand.pk)

    assert Recommendation.objects.filter(customer=alice).exists()
    assert not Recommendation.objects.filter(product_id=gone.pk).exists()
    dangling = Recommendation.objects.exclude(product_id__in=Product.objects.values("pk"))
    assert not dangling.exists()
    other = Recommendation.objects.filter(brand=brand).first().product
    other.delete()
    assert not Recommendation.objects.filter(product_id=other.pk).exists()
    brand.delete()
    for model in (Recommendation, InferredInterest, ContactHourInference):
        assert not model.objects.filter(brand_id=brand.pk).exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="triggers are PostgreSQL's (SQLite: one writer)"
)
def test_a_delete_in_plain_sql_takes_the_result_rows_with_it(
    shop, crowd, alice, bob, alice_history, bob_history
):
    """Whoever deletes a customer, a product or a brand (raw SQL here, past the ORM), the
    result rows pointing at it go in the same statement (migration 0004's triggers)."""
    brand, _ = shop
    services.train_brand(brand_id=brand.pk)
    product = Recommendation.objects.filter(customer=bob).first().product_id
    assert InferredInterest.objects.filter(customer=alice).exists()

    class Undo(Exception):
        """Rolls the raw deletes back (other tables' constraints would refuse them)."""

    with pytest.raises(Undo), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_event WHERE product_id = %s", [product])
        cursor.execute("DELETE FROM ledger_product WHERE id = %s", [product])
        assert not Recommendation.objects.filter(product_id=product).exists()
        cursor.execute("DELETE FROM accounts_customer WHERE id = %s", [alice.pk])
        assert Recommendation.objects.filter(customer=bob).exists()
        for model in (Recommendation, InferredInterest, ContactHourInference):
            assert not model.objects.filter(customer_id=alice.pk).exists()
        cursor.execute("DELETE FROM accounts_brand WHERE id = %s", [brand.pk])
        for model in (Recommendation, InferredInterest, ContactHourInference):
            assert not model.objects.filter(brand_id=brand.pk).exists()
        raise Undo


def test_a_write_for_a_run_or_brand_that_is_gone_stores_nothing(setting):
    brand, (a, _, _), items, (run, other_run, _) = setting
    write(brand, [(a, items[0], 1, 0.9, False, why(1))], run_id=run)
    before = stored_recs(brand)
    TrainingRun.objects.filter(pk=other_run).delete()

    with pytest.raises(IntegrityError):
        write(brand, [(a, items[1], 1, 0.5, False, "[]")], run_id=other_run)

    assert stored_recs(brand) == before


def test_explanations_stored_as_written_json_answer_every_json_lookup(setting):
    """The explanation column keeps its text as written (PostgreSQL ``json``, see
    models.WrittenJSONField) yet filters, key lookups and reads work as on any JSONField."""
    brand, customers, items, runs = setting
    cite = {"kind": "event", "pk": 7, "label": 'rated Shoe 5★ "x" \\ ü', "date": "2026-01-02"}
    with transaction.atomic():
        writer.results_write(
            {"brand_id": brand.pk},
            recs(
                [
                    (customers[0], items[0], 1, 0.5, False, json.dumps([cite], ensure_ascii=False)),
                    (customers[1], items[1], 1, 0.0, True, "[]"),
                ]
            ),
            [],
            [],
            run_id=runs[0],
        )
    rows = Recommendation.objects.filter(brand=brand)
    assert rows.get(customer_id=customers[0]).explanation == [cite]
    assert list(rows.filter(explanation=[]).values_list("customer_id", flat=True)) == [customers[1]]
    assert rows.exclude(explanation=[]).get().customer_id == customers[0]
    if connection.features.supports_json_field_contains:  # (not SQLite)
        assert rows.filter(explanation__contains=[{"pk": 7}]).count() == 1
    assert rows.filter(explanation__0__label=cite["label"]).count() == 1
    assert rows.filter(explanation__0__pk__gt=6).count() == 1
    assert rows.values_list("explanation", flat=True).get(customer_id=customers[0]) == [cite]
    rows.filter(customer_id=customers[1]).update(explanation=[{"kind": "order", "pk": 1}])
    assert rows.get(customer_id=customers[1]).explanation == [{"kind": "order", "pk": 1}]


@pytest.mark.django_db
def test_the_explanation_column_is_introspected_as_json():
    """Scans of every column (inspectdb, the card-number sweep) can read its type."""
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(
            cursor, Recommendation._meta.db_table
        )
    (column,) = [c for c in description if c.name == "explanation"]
    assert connection.introspection.get_field_type(column.type_code, column) in {
        "JSONField",
        "TextField",  # SQLite
    }
