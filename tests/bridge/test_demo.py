"""`demo_data` gives the demo shop what a brand's systems hold, once, idempotently."""

import json
from io import StringIO

from django.core.management import call_command

from accounts.keys import server_key_authenticate
from accounts.models import ServerKey, WebhookEndpoint


def test_demo_data_writes_the_shops_keys_once_and_keeps_them(db, settings, tmp_path, monkeypatch):
    settings.DEMO_SHOP_CONFIG = str(tmp_path / "shop.json")
    monkeypatch.setenv("BRANDSITE_PORT", "8123")

    first, second = StringIO(), StringIO()
    call_command("demo_data", stdout=first)
    config = json.loads((tmp_path / "shop.json").read_text())
    call_command("demo_data", stdout=second)

    assert json.loads((tmp_path / "shop.json").read_text()) == config
    assert server_key_authenticate(config["server_key"]).slug == config["brand"] == "northwind"
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.url == "http://127.0.0.1:8123/webhooks"
    assert config["webhook_secret"] == endpoint.secret
    assert config["widget_key"].startswith("pk_") and config["token_secret"]
    assert len(config["products"]) >= 10
    assert ServerKey.objects.count() == 1
    assert config["server_key"] in first.getvalue() and "sk_" not in second.getvalue()
    assert (tmp_path / "shop.json").stat().st_mode & 0o077 == 0  # secrets: owner only
