"""Helpers for the brand bridge tests: a brand with its keys, link tokens, shell records
made through ingest, and a real webhook receiver on 127.0.0.1."""

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from django.utils import timezone

from accounts.keys import brand_token_secret_rotate, server_key_create
from accounts.links import LINK_AUDIENCE
from accounts.models import Customer, CustomerBrand
from accounts.webhooks import webhook_endpoint_create
from ledger.ingest import customers_ingest, events_ingest, orders_ingest
from ledger.schemas import CustomerIn, EventIn, OrderIn, OrderLineIn
from tests.factories import BrandFactory, ProductFactory


class Brand:
    """A brand as its own systems see Candor: token secret, server key, a few products."""

    def __init__(self, slug: str = "northwind", name: str = "Northwind Outfitters"):
        self.brand = BrandFactory(slug=slug, name=name)
        self.secret = brand_token_secret_rotate(brand=self.brand)
        _, self.server_key = server_key_create(brand=self.brand, label="test")
        self.products = [
            ProductFactory(brand=self.brand, name=f"{name} item {i}") for i in range(3)
        ]

    @property
    def auth(self) -> dict:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.server_key}"}

    def link_token(self, ref: str, secret: str | None = None, **overrides) -> str:
        now = int(time.time())
        claims = {"sub": ref, "aud": LINK_AUDIENCE, "iss": self.brand.slug, "iat": now}
        claims.update(exp=now + 600, jti=secrets.token_urlsafe(12))
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, secret or self.secret, algorithm="HS256")

    def shell(self, ref: str, *, orders: int = 1, events: int = 1) -> Customer:
        """A customer record as the brand's ingest makes it (nobody can sign in to it)."""
        customers_ingest(brand=self.brand, items=[CustomerIn(external_ref=ref)])
        now = timezone.now()
        product = self.products[0]
        if orders:
            orders_ingest(
                brand=self.brand,
                items=[
                    OrderIn(
                        external_id=f"{ref}-order-{i}",
                        customer_ref=ref,
                        placed_at=now,
                        lines=[OrderLineIn(product_ref=product.external_id, unit_price="12.50")],
                    )
                    for i in range(orders)
                ],
            )
        if events:
            events_ingest(
                brand=self.brand,
                items=[
                    EventIn(
                        external_id=f"{ref}-event-{i}",
                        customer_ref=ref,
                        kind="view",
                        occurred_at=now,
                        product_ref=product.external_id,
                    )
                    for i in range(events)
                ],
            )
        return CustomerBrand.objects.get(brand=self.brand, external_ref=ref).customer

    def endpoint(self, url: str, event_types=()):
        endpoint, secret = webhook_endpoint_create(
            brand=self.brand, url=url, event_types=event_types
        )
        return endpoint, secret


class Receiver:
    """A brand's webhook endpoint: a real HTTP server on 127.0.0.1 in a thread.

    `answers` is a list of status codes (or seconds to stall, as a float) used one per
    request; once it runs out every request gets 204. `answers_for` does the same per
    webhook-id, for tests where deliveries run side by side and arrival order is not
    fixed. Every request is recorded.
    """

    def __init__(self, answers=(), answers_for=None):
        self.answers = list(answers)
        self.answers_for = {k: list(v) for k, v in (answers_for or {}).items()}
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver would

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.requests.append(
                        {
                            "path": self.path,
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                        }
                    )
                    own = receiver.answers_for.get(self.headers.get("webhook-id", ""))
                    if own:
                        answer = own.pop(0)
                    else:
                        answer = receiver.answers.pop(0) if receiver.answers else 204
                if isinstance(answer, float):
                    time.sleep(answer)
                    answer = 204
                self.send_response(answer)
                if 300 <= answer < 400:
                    self.send_header("Location", "http://127.0.0.2:9/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def events(self) -> list[dict]:
        with self.lock:
            return [json.loads(r["body"]) for r in self.requests]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
