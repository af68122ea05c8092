from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models

from accounts.models import Brand


class Product(models.Model):
    """A brand's catalog item. Not customer data."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="products")
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=100, blank=True)
    price = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    image_url = models.URLField(blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["brand", "name"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "external_id"], name="uniq_product_ext_id")
        ]

    def __str__(self) -> str:
        return self.name
