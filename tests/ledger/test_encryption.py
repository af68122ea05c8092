from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accounts import crypto
from accounts.models import Brand
from ledger.models import Address, Event, PersonalFact
from tests.factories import AddressFactory, CustomerFactory, EventFactory, PersonalFactFactory


def _raw(table, column, pk):
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "{column}" FROM "{table}" WHERE id = %s', [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_it_stores_sensitive_fields_as_ciphertext(alice):
    fact = PersonalFactFactory(customer=alice, field="phone", value="+44 20 7946 0958")
    address = AddressFactory(customer=alice, line1="221B Baker Street", postal_code="NW1 6XE")

    raw_phone = _raw("ledger_personalfact", "value", fact.pk)
    raw_line1 = _raw("ledger_address", "line1", address.pk)
    raw_postcode = _raw("ledger_address", "postal_code", address.pk)

    assert "7946" not in raw_phone
    assert "Baker" not in raw_line1
    assert "NW1" not in raw_postcode
    assert raw_phone.startswith("gAAAA")
    assert PersonalFact.objects.get(pk=fact.pk).value == "+44 20 7946 0958"


def test_it_rotates_every_row_to_the_new_key(alice, bob, settings, capsys):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    facts = [PersonalFactFactory(customer=c, value=f"Name {c.pk}") for c in (alice, bob)]
    addresses = [AddressFactory(customer=alice, line2="Flat 3") for _ in range(7)]
    addresses.append(AddressFactory(customer=bob, line2=""))
    brand = Brand.objects.create(name="Acme", slug="acme", token_secret="widget-secret")
    before = {a.pk: _raw("ledger_address", "line1", a.pk) for a in addresses}

    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    crypto._fernet.cache_clear()
    call_command("rotate_field_keys", batch_size=3)

    out = capsys.readouterr().out
    assert "ledger.Address: 8 rows" in out
    assert "ledger.PersonalFact: 2 rows" in out
    assert "accounts.Brand: 1 rows" in out
    assert all(_raw("ledger_address", "line1", pk) != raw for pk, raw in before.items())

    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    crypto._fernet.cache_clear()
    for fact, customer in zip(facts, (alice, bob), strict=True):
        assert PersonalFact.objects.get(pk=fact.pk).value == f"Name {customer.pk}"
    for address in addresses:
        stored = Address.objects.get(pk=address.pk)
        assert (stored.line1, stored.line2, stored.postal_code) == (
            address.line1,
            address.line2,
            address.postal_code,
        )
        raw = _raw("ledger_address", "line1", address.pk)
        assert Fernet(new_key.encode()).decrypt(raw.encode()).decode() == address.line1
    assert _raw("ledger_address", "line2", addresses[-1].pk) == ""
    assert Brand.objects.get(pk=brand.pk).token_secret == "widget-secret"


def test_address_city_and_label_and_search_text_are_ciphertext_in_sql(alice):
    address = AddressFactory(customer=alice, label="Mum's flat", city="Reykjavík")
    search = EventFactory(customer=alice, kind="search", product=None, query="pregnancy test")

    for column, plain in (("city", "Reykjavík"), ("label", "Mum's flat")):
        raw = _raw("ledger_address", column, address.pk)
        assert raw.startswith("gAAAA") and plain not in raw
    raw_query = _raw("ledger_event", "query", search.pk)
    assert raw_query.startswith("gAAAA") and "pregnancy" not in raw_query

    stored = Address.objects.get(pk=address.pk)
    assert (stored.city, stored.label) == ("Reykjavík", "Mum's flat")
    assert Event.objects.get(pk=search.pk).query == "pregnancy test"
    assert _raw("ledger_event", "query", EventFactory(customer=alice).pk) == ""


def test_rotation_covers_city_label_and_search_text(alice, settings, capsys):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    address = AddressFactory(customer=alice, label="Work", city="Lyon")
    search = EventFactory(customer=alice, kind="search", product=None, query="red shoes")

    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    crypto._fernet.cache_clear()
    call_command("rotate_field_keys")

    assert "ledger.Event: 1 rows" in capsys.readouterr().out
    only_new = Fernet(new_key.encode())
    for table, column, pk, plain in (
        ("ledger_address", "city", address.pk, "Lyon"),
        ("ledger_address", "label", address.pk, "Work"),
        ("ledger_event", "query", search.pk, "red shoes"),
    ):
        assert only_new.decrypt(_raw(table, column, pk).encode()).decode() == plain


def test_the_migration_encrypts_rows_stored_in_clear(transactional_db):
    from django.db.migrations.executor import MigrationExecutor

    before = [("ledger", "0002_address_contactpreference_event_order_orderline_and_more")]
    after = [("ledger", "0003_encrypt_address_city_label_event_query")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        customer = CustomerFactory()
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO ledger_address (customer_id, source, in_use, created_at, updated_at,"
                " label, recipient, line1, line2, city, postal_code, country, is_default)"
                " VALUES (%s, 'provided', true, %s, %s, 'Home', '', %s, '', 'Ghent', '', 'BE',"
                " false)",
                [customer.pk, timezone.now(), timezone.now(), crypto.encrypt_str("1 Rue")],
            )
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        executor.migrate(after)  # the data step again: nothing encrypted twice
    finally:
        MigrationExecutor(connection).migrate(
            [key for key in MigrationExecutor(connection).loader.graph.leaf_nodes()]
        )

    pk = Address.objects.get(customer=customer).pk
    assert _raw("ledger_address", "city", pk).startswith("gAAAA")
    assert _raw("ledger_address", "label", pk).startswith("gAAAA")
    stored = Address.objects.get(pk=pk)
    assert (stored.city, stored.label) == ("Ghent", "Home")
