"""Idempotent demo data: brands, a catalog, a demo customer and a staff user with MFA,
and the demo shop's configuration (its keys and webhook endpoint, var/demo-shop.json)."""

import json
import os
from decimal import Decimal
from pathlib import Path

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.mfa.utils import decrypt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.audit import Actor, audit_record
from accounts.keys import (
    brand_token_secret_rotate,
    server_key_authenticate,
    server_key_create,
    widget_key_create,
)
from accounts.models import CustomerBrand, Sensitivity, WebhookEndpoint
from accounts.services import (
    brand_link_create,
    brand_upsert,
    customer_create,
    staff_user_upsert,
)
from accounts.webhooks import webhook_endpoint_create
from ledger.services import product_upsert

User = get_user_model()

DEMO_CUSTOMER = ("demo", "candor-demo-2026")
DEMO_STAFF = ("staff", "candor-staff-2026")
DEMO_WIDGET_ORIGINS = [
    "http://127.0.0.1:8000",
    "http://localhost:8000",
    # The demo brand site (demo_site/serve.py, the Procfile's brandsite process).
    "http://127.0.0.1:8001",
    "http://localhost:8001",
]
DEMO_CUSTOMER_REF = "demo-customer"

CATALOG = [
    ("trail-runner", "Trail Runner shoes", "Footwear", "119.00"),
    ("city-sneaker", "City Sneaker", "Footwear", "89.00"),
    ("hiking-boot", "Ridge Hiking Boot", "Footwear", "159.00"),
    ("rain-shell", "Rain Shell jacket", "Outerwear", "139.00"),
    ("down-vest", "Light Down Vest", "Outerwear", "99.00"),
    ("merino-tee", "Merino Tee", "Tops", "49.00"),
    ("flannel-shirt", "Flannel Shirt", "Tops", "59.00"),
    ("trail-socks", "Trail Socks (3 pack)", "Accessories", "19.00"),
    ("daypack", "20 L Daypack", "Bags", "79.00"),
    ("water-bottle", "Insulated Bottle", "Accessories", "29.00"),
    ("headlamp", "Rechargeable Headlamp", "Gear", "45.00"),
    ("camp-mug", "Enamel Camp Mug", "Gear", "15.00"),
]


class Command(BaseCommand):
    help = "Create (or refresh) demo brands, catalog, a demo customer and a staff user."

    @transaction.atomic
    def handle(self, *args, **options):
        brand = brand_upsert(slug="northwind", name="Northwind Outfitters")
        brand_upsert(slug="harbor-bank", name="Harbor Bank", sensitivity=Sensitivity.BANKING)
        for ext_id, name, category, price in CATALOG:
            product_upsert(
                brand=brand,
                external_id=ext_id,
                name=name,
                category=category,
                price=Decimal(price),
            )

        keys = self._brand_keys(brand)

        username, password = DEMO_CUSTOMER
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_password(password)
            user.save()
        customer_create(user=user)
        widget_demo = self._widget_demo(brand, user)
        self._saved_details(user.customer)
        from recommendations.services import demo_seed  # a little history + a first model

        demo_seed(brand=brand, customer=user.customer)

        staff_name, staff_password = DEMO_STAFF
        staff, _ = staff_user_upsert(username=staff_name, password=staff_password, superuser=True)
        totp = Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).first()
        if totp is None:
            totp = TOTP.activate(staff, generate_totp_secret()).instance
        secret = decrypt(totp.data["secret"])

        self.stdout.write(
            self.style.SUCCESS("Demo data ready.")
            + f"\n  Customer login: {username} / {password}"
            + f"\n  Staff login:    {staff_name} / {staff_password}"
            + f"\n  Staff TOTP secret (add it to an authenticator app): {secret}"
            + "\n  or print the current staff code: python manage.py demo_totp"
        )
        if keys:
            self.stdout.write(keys)
        self.stdout.write(widget_demo)
        self.stdout.write(self._shop_config(brand))

    def _brand_keys(self, brand) -> str:
        """A widget key and a token secret for the demo brand, created only once."""
        lines = []
        if not brand.token_secret:
            brand_token_secret_rotate(brand=brand)
        if not brand.widget_keys.exists():
            widget = widget_key_create(brand=brand, origins=DEMO_WIDGET_ORIGINS)
            lines.append(f"  {brand.name} widget key: {widget.key}")
        return "\n".join(lines)

    def _saved_details(self, customer) -> None:
        """A default address and a tokenized test card, so one-click reorder works."""
        from ledger.models import Address, PaymentMethod
        from ledger.payments import get_gateway
        from ledger.services import address_create, payment_method_create

        actor = Actor.customer(customer)
        if not Address.objects.filter(customer=customer).exists():
            address_create(
                customer=customer,
                actor=actor,
                label="Home",
                recipient="Demo Customer",
                line1="1 Example Street",
                city="Springfield",
                postal_code="12345",
                country="US",
            )
        if not PaymentMethod.objects.filter(customer=customer).exists():
            gateway = get_gateway()
            # Stripe's public test number: it goes to the gateway, never to the database.
            card = gateway.tokenize("4242424242424242", 12, 2030, "123")
            payment_method_create(customer=customer, card=card, processor=gateway.name, actor=actor)

    def _widget_demo(self, brand, user) -> str:
        """The demo brand site can embed the widget: its origins on the key, a customer link."""
        for key in brand.widget_keys.filter(revoked_at__isnull=True):
            missing = [o for o in DEMO_WIDGET_ORIGINS if o not in key.allowed_origins]
            if missing:
                key.allowed_origins = [*key.allowed_origins, *missing]
                key.save(update_fields=["allowed_origins"])
        customer = user.customer
        if not CustomerBrand.objects.filter(customer=customer, brand=brand).exists():
            brand_link_create(customer=customer, brand=brand, ref=DEMO_CUSTOMER_REF)
            audit_record(
                actor=Actor.system("demo_data"),
                customer=customer,
                data_kind="brand_link",
                action="create",
                reason=f"linked to {brand.name} for the widget demo",
            )
        return "  Demo brand site with the widget: http://127.0.0.1:8001/ (docs: /widget/docs/)"

    def _shop_config(self, brand) -> str:
        """What the demo shop (demo_site/serve.py) needs as the brand's own systems would
        hold it: its keys, its webhook endpoint's signing secret and its catalog. Written
        to var/ (never committed); the server key is created, and printed, only when the
        file does not hold one that still works."""
        path = Path(settings.DEMO_SHOP_CONFIG)
        try:
            config = json.loads(path.read_text())
        except (OSError, ValueError):
            config = {}
        raw = config.get("server_key", "")
        created = []
        if not raw or getattr(server_key_authenticate(raw), "pk", None) != brand.pk:
            _, raw = server_key_create(brand=brand, label="demo shop")
            created.append(f"  {brand.name} server key (shown once, store it now): {raw}")
        port = os.environ.get("BRANDSITE_PORT", "8001")
        url = f"http://127.0.0.1:{port}/webhooks"
        endpoint = WebhookEndpoint.objects.filter(
            brand=brand, url=url, disabled_at__isnull=True
        ).first()
        if endpoint is None:
            endpoint, _ = webhook_endpoint_create(brand=brand, url=url, description="demo shop")
        widget = brand.widget_keys.filter(revoked_at__isnull=True).order_by("pk").first()
        config = {
            "brand": brand.slug,
            "brand_name": brand.name,
            "server_key": raw,
            "token_secret": brand.token_secret,
            "widget_key": widget.key if widget else "",
            "webhook_secret": endpoint.secret,
            "customer_ref": DEMO_CUSTOMER_REF,
            "products": [
                {"external_id": e, "name": n, "category": c, "price": p} for e, n, c, p in CATALOG
            ],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(config, indent=2))
        temporary.chmod(0o600)
        temporary.replace(path)
        created.append(f"  Demo shop's keys and webhook secret: {path}")
        return "\n".join(created)
