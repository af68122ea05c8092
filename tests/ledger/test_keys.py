"""Brand credentials: server keys (hashed, shown once), widget keys, token secret, commands."""

import hashlib
from io import StringIO

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from freezegun import freeze_time

from accounts.keys import (
    brand_token_secret_rotate,
    origin_normalize,
    server_key_authenticate,
    server_key_create,
    server_key_revoke,
    tombstone_digest,
    widget_key_create,
)
from accounts.models import (
    CustomerBrand,
    ErasureTombstone,
    OutboxMessage,
    ServerKey,
    WidgetKey,
)
from tests.factories import BrandFactory


@pytest.fixture
def brand(db):
    return BrandFactory(slug="northwind", name="Northwind")


def test_it_shows_a_server_key_once_and_stores_only_its_hash(brand):
    key, raw = server_key_create(brand=brand, label="shop")

    scheme, prefix, secret = raw.split("_", 2)
    assert (scheme, prefix) == ("sk", key.prefix)
    assert len(secret) >= 43
    stored = ServerKey.objects.get(pk=key.pk)
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert secret not in {stored.prefix, stored.key_hash, stored.label}


def test_it_authenticates_a_server_key_to_its_brand(brand):
    other = BrandFactory(slug="harbor")
    _, raw = server_key_create(brand=brand)
    _, other_raw = server_key_create(brand=other)

    assert server_key_authenticate(raw) == brand
    assert server_key_authenticate(other_raw) == other


@pytest.mark.parametrize(
    "mangle",
    [
        lambda raw: raw[:-1] + ("A" if raw[-1] != "A" else "B"),
        lambda raw: raw.replace("sk_", "pk_", 1),
        lambda raw: raw.split("_", 2)[2],
        lambda raw: "",
        lambda raw: "sk__",
        lambda raw: "sk_" + "0" * 30 + "_x",
    ],
)
def test_it_refuses_a_wrong_or_malformed_server_key(brand, mangle):
    _, raw = server_key_create(brand=brand)

    assert server_key_authenticate(mangle(raw)) is None


def test_it_refuses_a_revoked_server_key(brand):
    key, raw = server_key_create(brand=brand)

    server_key_revoke(key=key)
    first_revocation = key.revoked_at
    server_key_revoke(key=key)

    assert server_key_authenticate(raw) is None
    assert key.revoked_at == first_revocation is not None


def test_a_widget_key_is_not_a_server_key(brand):
    widget = widget_key_create(brand=brand, origins=["https://shop.example"])

    assert widget.key.startswith("pk_")
    assert server_key_authenticate(widget.key) is None


def test_it_records_last_use_at_most_once_a_minute(brand):
    key, raw = server_key_create(brand=brand)

    with freeze_time("2026-03-01 10:00:00"):
        server_key_authenticate(raw)
    with freeze_time("2026-03-01 10:00:30"):
        server_key_authenticate(raw)
    key.refresh_from_db()
    assert key.last_used_at.isoformat() == "2026-03-01T10:00:00+00:00"

    with freeze_time("2026-03-01 10:01:05"):
        server_key_authenticate(raw)
    key.refresh_from_db()
    assert key.last_used_at.isoformat() == "2026-03-01T10:01:05+00:00"


def test_it_binds_a_widget_key_to_normalized_origins(brand):
    widget = widget_key_create(
        brand=brand,
        origins=["https://Shop.Example", "http://localhost:8000/", "https://shop.example"],
    )

    assert WidgetKey.objects.get(pk=widget.pk).allowed_origins == [
        "https://shop.example",
        "http://localhost:8000",
    ]


@pytest.mark.parametrize(
    "origin",
    [
        "shop.example",
        "ftp://shop.example",
        "https://shop.example/path",
        "https://user:pw@shop.example",
        "https://shop.example?x=1",
        "https://shop.example:99999",
        "https://",
    ],
)
def test_it_refuses_what_is_not_an_origin(brand, origin):
    with pytest.raises(ValidationError):
        origin_normalize(origin)
    with pytest.raises(ValidationError):
        widget_key_create(brand=brand, origins=[origin])
    assert WidgetKey.objects.count() == 0


def test_a_widget_key_needs_an_origin(brand):
    with pytest.raises(ValidationError):
        widget_key_create(brand=brand, origins=[])


def test_it_rotates_the_brand_token_secret_and_keeps_it_encrypted(brand):
    first = brand_token_secret_rotate(brand=brand)
    second = brand_token_secret_rotate(brand=brand)

    brand.refresh_from_db()
    assert first != second
    assert brand.token_secret == second
    with connection.cursor() as cursor:
        cursor.execute("SELECT token_secret FROM accounts_brand WHERE id = %s", [brand.pk])
        (raw,) = cursor.fetchone()
    assert second not in raw


def test_the_tombstone_digest_is_stable_and_brand_specific():
    assert tombstone_digest(1, "cust-1") == hashlib.sha256(b"1:cust-1").hexdigest()
    assert tombstone_digest(1, "cust-1") != tombstone_digest(2, "cust-1")


def test_the_command_prints_a_working_server_key_once(brand):
    out, err = StringIO(), StringIO()

    call_command(
        "brand_key", "--brand", "northwind", "server", "--label", "shop", stdout=out, stderr=err
    )

    raw = out.getvalue().strip()
    assert server_key_authenticate(raw) == brand
    assert raw not in err.getvalue()
    assert ServerKey.objects.get().label == "shop"


def test_the_command_creates_a_widget_key(brand):
    out = StringIO()

    call_command(
        "brand_key",
        "--brand",
        "northwind",
        "widget",
        "--origin",
        "https://shop.example",
        stdout=out,
        stderr=StringIO(),
    )

    widget = WidgetKey.objects.get()
    assert out.getvalue().strip() == widget.key
    assert widget.allowed_origins == ["https://shop.example"]


@pytest.mark.parametrize(
    "args",
    [
        ["--brand", "nope", "server"],
        ["--brand", "northwind", "widget"],
        ["--brand", "northwind", "widget", "--origin", "https://shop.example/x"],
    ],
)
def test_the_command_refuses_bad_input(brand, args):
    with pytest.raises(CommandError):
        call_command("brand_key", *args, stdout=StringIO(), stderr=StringIO())
    assert ServerKey.objects.count() + WidgetKey.objects.count() == 0


def test_demo_data_creates_the_demo_brand_keys_once(db):
    first, second = StringIO(), StringIO()

    call_command("demo_data", stdout=first)
    call_command("demo_data", stdout=second)

    assert ServerKey.objects.count() == 1 and WidgetKey.objects.count() == 1
    raw = next(w for w in first.getvalue().split() if w.startswith("sk_"))
    assert server_key_authenticate(raw).slug == "northwind"
    assert "sk_" not in second.getvalue()
    assert ServerKey.objects.get().brand.token_secret


def test_admin_registers_the_key_and_link_tables_with_read_only_history():
    for model in (ServerKey, WidgetKey, CustomerBrand, ErasureTombstone, OutboxMessage):
        assert model in admin.site._registry
    for model in (ErasureTombstone, OutboxMessage):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(None)
        assert not model_admin.has_change_permission(None)
        assert not model_admin.has_delete_permission(None)
    assert "key_hash" not in admin.site._registry[ServerKey].fields
