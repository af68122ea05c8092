"""Idempotent demo data: brands, a catalog, a demo customer and a staff user with MFA."""

from decimal import Decimal

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.mfa.utils import decrypt
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Sensitivity
from accounts.services import brand_upsert, customer_create, staff_user_upsert
from ledger.services import product_upsert

User = get_user_model()

DEMO_CUSTOMER = ("demo", "candor-demo-2026")
DEMO_STAFF = ("staff", "candor-staff-2026")

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

        username, password = DEMO_CUSTOMER
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_password(password)
            user.save()
        customer_create(user=user)

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
