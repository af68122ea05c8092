from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Brand, Customer
from ledger.models import Product

User = get_user_model()


def test_demo_data_is_idempotent_and_prints_the_logins(db, capsys):
    call_command("demo_data")
    counts = (
        Brand.objects.count(),
        Product.objects.count(),
        Customer.objects.count(),
        User.objects.count(),
    )
    call_command("demo_data")
    out = capsys.readouterr().out

    assert counts == (
        Brand.objects.count(),
        Product.objects.count(),
        Customer.objects.count(),
        User.objects.count(),
    )
    assert counts[1] >= 10
    assert "demo / candor-demo-2026" in out
    assert "staff / candor-staff-2026" in out
    assert User.objects.get(username="demo").check_password("candor-demo-2026")


def test_demo_staff_can_produce_a_valid_totp_code(db, capsys, settings):
    settings.DEBUG = True
    call_command("demo_data")
    capsys.readouterr()
    call_command("demo_totp")
    code = capsys.readouterr().out.strip()

    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    auth = Authenticator.objects.get(user__username="staff", type="totp")
    assert TOTP(auth).validate_code(code)


def test_create_staff_works_without_prompts(db, monkeypatch):
    monkeypatch.setenv("CANDOR_STAFF_PASSWORD", "scripted-secret-99")
    call_command("create_staff", "--username", "ops", "--superuser")

    user = User.objects.get(username="ops")
    assert user.is_staff and user.is_superuser
    assert user.check_password("scripted-secret-99")


def test_create_staff_without_a_password_fails_clearly(db, monkeypatch):
    monkeypatch.delenv("CANDOR_STAFF_PASSWORD", raising=False)

    with pytest.raises(CommandError, match="password"):
        call_command("create_staff", "--username", "ops")
    assert not User.objects.filter(username="ops").exists()


def test_the_demo_order_is_observed_and_totals_its_one_boot(db, capsys):
    from ledger.models import Order

    call_command("demo_data")

    order = Order.objects.get(external_id="demo-order-1")
    line = order.lines.get()
    assert (line.quantity, line.unit_price, order.total) == (1, Decimal("159.00"), line.unit_price)
    assert order.source == "observed"  # what the registry declares for orders


def test_the_demo_order_reads_the_same_on_orders_and_on_my_data(db, client, capsys):
    from ledger.models import Order

    call_command("demo_data")
    client.force_login(User.objects.get(username="demo"))
    order = Order.objects.get(external_id="demo-order-1")

    orders = client.get("/me/orders/").content.decode()
    my_data = client.get("/me/data/").content.decode()

    card = orders.split(f'id="order-{order.pk}"')[1].split("</article>")[0]
    assert "159.00 EUR" in card
    assert "Observed from your activity" in card and "Provided by you" not in card
    kinds = my_data.split('id="kind-order"')[0]
    assert kinds.rsplit('class="source-heading"', 1)[1].count("Observed from your activity") == 1
