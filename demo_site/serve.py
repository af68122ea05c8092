"""A brand's own shop on another origin, talking to Candor as a brand would (`make run`).

    python demo_site/serve.py [--port 8001] [--candor http://127.0.0.1:8000] [--config FILE]

It plays the brand's systems, with only what a brand holds (read from `--config`, which
`manage.py demo_data` writes to var/demo-shop.json): its server key, widget key, token
secret, webhook signing secret and catalog. No Django, no database:

* a visitor "buys" as a new shop customer: the shop pushes the customer and the order
  through Candor's ingest API with its server key, and remembers the customer in a cookie;
* the page embeds the widget with a customer token it mints (JWT HS256), and offers "See
  what <brand> knows about you": a connect link token, minted the same way;
* `POST /webhooks` receives Candor's webhooks and verifies each with the `standardwebhooks`
  library; `/webhooks` lists them. When told a customer erased their account or deleted
  data, it confirms on its side (`POST /api/v1/erasures/{id}/confirm`).

`/sign-in-demo` signs Candor's demo customer in at the shop (the widget demo), `--ref` any
customer reference; `/?anonymous=1` shows the page to a visitor who is not signed in.
Standard library + PyJWT + standardwebhooks; loopback by default.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import secrets
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TOKEN_LIFETIME = 600  # seconds; Candor refuses anything over 15 minutes
COOKIE = "shop_customer"
MAX_BODY = 256 * 1024
MAX_RECEIVED = 200
FILES = {"/host.js": ("host.js", "text/javascript"), "/host.css": ("host.css", "text/css")}
CONFIRMS = ("customer.erased", "data.deleted")


def _cookie(value: str, max_age: int = 30 * 24 * 3600) -> str:
    return f"{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax"


def mint(config: dict, *, audience: str, ref: str) -> str:
    """A token as the brand's server mints it: for the widget or for a connect link."""
    now = int(time.time())
    claims = {"sub": ref, "aud": audience, "iss": config["brand"], "iat": now}
    claims.update(exp=now + TOKEN_LIFETIME, jti=secrets.token_urlsafe(16))
    return jwt.encode(claims, config["token_secret"], algorithm="HS256")


class Candor:
    """Candor's server API, with the brand's server key."""

    def __init__(self, base: str, server_key: str):
        self.base = base
        self.server_key = server_key

    def post(self, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(  # noqa: S310  the operator's own Candor URL
            self.base + path,
            data=json.dumps(body or {}).encode(),
            method="POST",
            headers={
                "Authorization": f"Bearer {self.server_key}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read() or b"{}")

    def buy(self, *, ref: str, product: dict) -> str:
        """The shop's checkout as the brand's backend reports it: customer, then order."""
        self.post("/api/v1/ingest/customers", {"items": [{"external_ref": ref}]})
        order_id = f"order-{secrets.token_hex(4)}"
        line = {"product_ref": product["external_id"], "quantity": 1}
        line["unit_price"] = str(product["price"])
        order = {"external_id": order_id, "customer_ref": ref, "lines": [line]}
        order["placed_at"] = datetime.now(UTC).isoformat()
        self.post("/api/v1/ingest/orders", {"items": [order]})
        return order_id


class Received:
    """Webhooks this shop received, newest first (this process's memory only)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: list[dict] = []

    def add(self, item: dict) -> None:
        with self.lock:
            self.items.insert(0, item)
            del self.items[MAX_RECEIVED:]

    def all(self) -> list[dict]:
        with self.lock:
            return list(self.items)


class Shop(BaseHTTPRequestHandler):
    server_version = "DemoShop/2"
    options: argparse.Namespace
    config: dict
    candor: Candor
    received: Received

    # --- routing --------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path in FILES:
            name, ctype = FILES[url.path]
            return self._send(200, (HERE / name).read_bytes(), ctype)
        if url.path == "/":
            return self._html(self._home(query))
        if url.path == "/candor":
            return self._to_candor()
        if url.path == "/sign-in-demo" and self.config.get("customer_ref"):
            return self._redirect("/", cookie=_cookie(self.config["customer_ref"]))
        if url.path == "/sign-out":
            return self._redirect("/", cookie=_cookie("", max_age=0))
        if url.path == "/webhooks":
            return self._html(self._webhooks_page())
        return self._send(404, b"not found", "text/plain")

    def do_POST(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self._send(413, b"too large", "text/plain")
        body = self.rfile.read(length)
        if path == "/buy":
            return self._buy(parse_qs(body.decode()))
        if path == "/webhooks":
            return self._receive(body)
        return self._send(404, b"not found", "text/plain")

    # --- the shop ---------------------------------------------------------------------------

    def _customer(self, query: dict | None = None) -> str | None:
        if query and query.get("anonymous") == ["1"]:
            return None
        cookie = SimpleCookie(self.headers.get("Cookie") or "")
        if COOKIE in cookie and cookie[COOKIE].value:
            return cookie[COOKIE].value
        return self.options.ref or None

    def _home(self, query: dict) -> str:
        config, ref = self.config, self._customer(query)
        bought = (query.get("bought") or [""])[0]
        failed = query.get("failed") == ["1"]
        if failed:
            status = "Sorry, the order could not be placed (Candor did not answer)."
        elif bought:
            status = f"Thank you! Order {bought} is placed, and we told Candor about it."
        elif ref:
            status = f"Signed in as the shop's customer {ref!r} (token minted server-side)."
        else:
            status = "Not signed in: the widget shows popular products and tracks nothing."
        connect = ""
        if ref:
            connect = (
                f'<p><a class="candor" id="see-what" href="/candor">See what '
                f"{html.escape(config['brand_name'])} knows about you</a> (in Candor)</p>"
            )
        products = "".join(
            '<li><form method="post" action="/buy">'
            f"<strong>{html.escape(p['name'])}</strong> {html.escape(str(p['price']))} "
            f'<input type="hidden" name="product" value="{html.escape(p["external_id"])}">'
            f'<button type="submit">Buy {html.escape(p["name"])}</button></form></li>'
            for p in config.get("products", [])[:6]
        )
        template = (HERE / "index.html").read_text()
        return (
            template.replace("{{ brand }}", html.escape(config["brand_name"]))
            .replace("{{ status }}", html.escape(status))
            .replace("{{ connect }}", connect)
            .replace("{{ products }}", products)
            .replace("{{ widget }}", self._widget_tag(ref))
        )

    def _widget_tag(self, ref: str | None) -> str:
        opts, config = self.options, self.config
        attrs = {
            "src": f"{opts.candor}/static/widget.js",
            "data-key": config.get("widget_key", ""),
            "data-slot": "home",
        }
        if ref and config.get("token_secret"):
            attrs["data-customer-token"] = mint(config, audience="candor-widget", ref=ref)
        if opts.api:
            attrs["data-api"] = opts.api
        tag = "<script " + " ".join(f'{k}="{html.escape(v)}"' for k, v in attrs.items())
        return tag + " async></script>"

    def _buy(self, form: dict) -> None:
        wanted = (form.get("product") or [""])[0]
        product = next((p for p in self.config["products"] if p["external_id"] == wanted), None)
        if product is None:
            return self._send(400, b"unknown product", "text/plain")
        ref = self._customer() or f"shop-{secrets.token_hex(6)}"
        try:
            order_id = self.candor.buy(ref=ref, product=product)
        except (OSError, ValueError):
            return self._redirect("/?failed=1")
        return self._redirect("/?" + urlencode({"bought": order_id}), cookie=_cookie(ref))

    def _to_candor(self) -> None:
        """The brand's "see your data" button: a fresh single-use connect link."""
        ref = self._customer()
        if not ref:
            return self._redirect("/")
        token = mint(self.config, audience="candor-link", ref=ref)
        return self._redirect(f"{self.options.candor}/link/?" + urlencode({"token": token}))

    # --- webhooks ---------------------------------------------------------------------------

    def _receive(self, body: bytes) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            event = Webhook(self.config["webhook_secret"]).verify(body, headers)
            verified = True
        except (WebhookVerificationError, ValueError):
            event, verified = {}, False
        self.received.add(
            {
                "id": headers.get("webhook-id", ""),
                "type": event.get("type", "(unreadable)"),
                "data": event.get("data", {}),
                "verified": verified,
                "received_at": datetime.now(UTC).strftime("%H:%M:%S"),
            }
        )
        if not verified:
            return self._send(400, b"signature not verified", "text/plain")
        self._send(204, b"", "text/plain")
        if event.get("type") in CONFIRMS and event.get("data", {}).get("erasure_id"):
            # Deleted on the shop's side too (nothing to delete in a demo): say so.
            erasure_id = event["data"]["erasure_id"]
            threading.Thread(target=self._confirm, args=(erasure_id,), daemon=True).start()

    def _confirm(self, erasure_id: str) -> None:
        time.sleep(0.2)  # after our 204 reached Candor
        for _attempt in range(3):
            try:
                self.candor.post(f"/api/v1/erasures/{erasure_id}/confirm")
                return
            except (OSError, urllib.error.HTTPError):
                time.sleep(1)

    def _webhooks_page(self) -> str:
        rows = "".join(
            f'<tr class="{"ok" if r["verified"] else "bad"}">'
            f"<td>{html.escape(r['received_at'])}</td>"
            f'<td class="type">{html.escape(r["type"])}</td>'
            f'<td class="verified">{"verified" if r["verified"] else "NOT verified"}</td>'
            f"<td><code>{html.escape(json.dumps(r['data'], sort_keys=True))}</code></td>"
            f"<td><code>{html.escape(r['id'])}</code></td></tr>"
            for r in self.received.all()
        )
        rows = rows or '<tr><td colspan="5">Nothing received yet.</td></tr>'
        brand = html.escape(self.config["brand_name"])
        return (
            f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<title>{brand} — webhooks from Candor</title><link rel="stylesheet" '
            f'href="/host.css"></head><body><h1>Webhooks from Candor</h1>'
            f'<p class="note">Each is verified with the standardwebhooks library and the '
            f"shop's signing secret. They name customers by the shop's own reference, never "
            f'a personal value. <a href="/">Back to the shop</a></p>'
            f'<table id="webhooks"><thead><tr><th>Received</th><th>Type</th><th>Signature</th>'
            f"<th>Data</th><th>webhook-id</th></tr></thead><tbody>{rows}</tbody></table>"
            f"</body></html>"
        )

    # --- plumbing ---------------------------------------------------------------------------

    def _html(self, page: str) -> None:
        self._send(200, page.encode(), "text/html; charset=utf-8")

    def _redirect(self, location: str, cookie: str = "") -> None:
        self.send_response(303)
        self.send_header("Location", location)
        if cookie:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        opts = self.options
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        # A strict policy, as a careful brand would have: the widget needs no inline code.
        connect = " ".join(dict.fromkeys([opts.candor, opts.api or opts.candor]))
        self.send_header(
            "Content-Security-Policy",
            f"default-src 'self'; script-src 'self' {opts.candor}; connect-src {connect}; "
            "style-src 'self'; img-src 'self' https: data:; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'",
        )
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # quiet: no tokens in logs
        return


def load_config(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SystemExit(f"Demo shop: cannot read {path} ({exc}); run manage.py demo_data") from exc


def main(argv: list[str] | None = None) -> None:
    var = Path(os.environ.get("CANDOR_VAR_DIR") or ROOT / "var")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BRANDSITE_PORT", 8001)))
    parser.add_argument(
        "--candor",
        default=os.environ.get(
            "CANDOR_URL", f"http://127.0.0.1:{os.environ.get('WEB_PORT', 8000)}"
        ),
        help="where Candor runs (widget.js and the link pages come from there)",
    )
    parser.add_argument("--api", default="", help="API origin, if not the same as --candor")
    parser.add_argument(
        "--config",
        default=os.environ.get("DEMO_SHOP_CONFIG") or str(var / "demo-shop.json"),
        help="the brand's keys and catalog (manage.py demo_data writes it)",
    )
    parser.add_argument("--ref", default=None, help="a customer reference to sign in")
    opts = parser.parse_args(argv)
    opts.candor = opts.candor.rstrip("/")
    opts.api = opts.api.rstrip("/")
    config = load_config(Path(opts.config))
    Shop.options, Shop.config, Shop.received = opts, config, Received()
    Shop.candor = Candor(opts.api or opts.candor, config.get("server_key", ""))
    server = ThreadingHTTPServer((opts.host, opts.port), Shop)
    print(f"Demo shop: http://{opts.host}:{opts.port}/  (Candor at {opts.candor})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
