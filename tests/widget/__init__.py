"""Helpers for the widget tests: a brand with a widget key and a token secret, tokens, results."""

import time

import jwt

from accounts.keys import brand_token_secret_rotate, widget_key_create
from accounts.models import CustomerBrand
from recommendations.models import Recommendation
from recommendations.widget import auth
from tests.factories import BrandFactory, EventFactory, ProductFactory

ORIGIN = "https://shop-a.example"
OTHER_ORIGIN = "https://evil.example"
URL = "/api/v1/widget/recommendations"
EVENTS_URL = "/api/v1/widget/events"


class Shop:
    """A brand as the widget sees it: publishable key, token secret, a few products."""

    def __init__(self, slug: str, origin: str = ORIGIN, n_products: int = 4):
        self.brand = BrandFactory(slug=slug, name=slug.title())
        self.secret = brand_token_secret_rotate(brand=self.brand)
        self.key = widget_key_create(brand=self.brand, origins=[origin]).key
        self.origin = origin
        self.products = [
            ProductFactory(brand=self.brand, name=f"{slug} product {i}") for i in range(n_products)
        ]

    def link(self, customer, ref: str) -> CustomerBrand:
        return CustomerBrand.objects.create(customer=customer, brand=self.brand, external_ref=ref)

    def token(self, sub: str, **overrides) -> str:
        return mint(self.secret, sub=sub, iss=self.brand.slug, **overrides)

    def recommend(self, customer, products=None) -> list[Recommendation]:
        """Personal results for `customer`, each citing one of their own viewed events."""
        recs = []
        for rank, product in enumerate(products or self.products[:2], start=1):
            event = EventFactory(customer=customer, brand=self.brand, product=product)
            recs.append(
                Recommendation.objects.create(
                    customer=customer,
                    brand=self.brand,
                    product=product,
                    rank=rank,
                    score=5.0 - rank,
                    explanation=[
                        {
                            "kind": "event",
                            "pk": event.pk,
                            "label": f"viewed {product.name}",
                            "date": event.occurred_at.date().isoformat(),
                        }
                    ],
                )
            )
        return recs

    def get(self, client, token: str | None = None, origin: str | None = None, **params):
        query = {"key": self.key, **params}
        headers = {"HTTP_ORIGIN": origin or self.origin}
        if token is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return client.get(URL, query, **headers)

    def post_event(self, client, body: dict, token: str | None = None):
        headers = {"HTTP_ORIGIN": self.origin}
        if token is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return client.post(
            f"{EVENTS_URL}?key={self.key}", body, content_type="application/json", **headers
        )


def mint(secret: str, *, sub: str, iss: str, lifetime: int = 600, **overrides) -> str:
    now = int(time.time())
    claims = {"sub": sub, "aud": auth.TOKEN_AUDIENCE, "iss": iss, "iat": now}
    claims["exp"] = now + lifetime
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, secret, algorithm="HS256")
