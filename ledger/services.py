from decimal import Decimal

from django.db import transaction

from accounts.models import Brand

from .models import Product


@transaction.atomic
def product_upsert(
    *,
    brand: Brand,
    external_id: str,
    name: str,
    category: str = "",
    price: Decimal = Decimal("0"),
    image_url: str = "",
    active: bool = True,
) -> Product:
    product, _ = Product.objects.update_or_create(
        brand=brand,
        external_id=external_id,
        defaults={
            "name": name,
            "category": category,
            "price": price,
            "image_url": image_url,
            "active": active,
        },
    )
    return product
