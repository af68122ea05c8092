"""A brand's own site on another origin, embedding the Candor widget (`make run` starts it).

    python demo_site/serve.py [--port 8001] [--candor http://127.0.0.1:8000]

Plays the brand's web server: for each page view it mints a short-lived customer token
(JWT HS256 with the brand's token secret, read through Django as the brand's backend
would hold it) and puts it in the widget's script tag. `/?anonymous=1` shows the page for a
visitor who is not signed in. Standard library + PyJWT only; loopback by default.
"""

from __future__ import annotations

import argparse
import html
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TOKEN_LIFETIME = 600  # seconds; Candor refuses anything over 15 minutes
FILES = {"/host.js": ("host.js", "text/javascript"), "/host.css": ("host.css", "text/css")}


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def brand_context(*, brand_slug: str, origin: str, customer_ref: str | None) -> dict:
    """The brand's widget key for this origin, its token secret and a customer to sign in."""
    from django.db import close_old_connections

    from accounts.models import Brand, CustomerBrand

    close_old_connections()
    brand = Brand.objects.filter(slug=brand_slug).first()
    if brand is None:
        return {}
    keys = brand.widget_keys.filter(revoked_at__isnull=True).order_by("pk")
    key = next((k.key for k in keys if origin in (k.allowed_origins or [])), None)
    if customer_ref is None:
        link = (
            CustomerBrand.objects.filter(brand=brand, customer__user__username="demo").first()
            or CustomerBrand.objects.filter(brand=brand).order_by("pk").first()
        )
        customer_ref = link.external_ref if link else None
    return {"brand": brand, "key": key, "secret": brand.token_secret, "ref": customer_ref}


def mint_token(*, secret: str, brand_slug: str, customer_ref: str) -> str:
    import jwt

    now = int(time.time())
    claims = {
        "sub": customer_ref,
        "aud": "candor-widget",
        "iss": brand_slug,
        "iat": now,
        "exp": now + TOKEN_LIFETIME,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


class BrandSite(BaseHTTPRequestHandler):
    server_version = "DemoBrandSite/1"
    options: argparse.Namespace

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        url = urlsplit(self.path)
        if url.path in FILES:
            name, ctype = FILES[url.path]
            return self._send(200, (HERE / name).read_bytes(), ctype)
        if url.path != "/":
            return self._send(404, b"not found", "text/plain")
        anonymous = parse_qs(url.query).get("anonymous") == ["1"]
        return self._send(200, self._page(anonymous).encode(), "text/html; charset=utf-8")

    def _page(self, anonymous: bool) -> str:
        opts = self.options
        ctx = brand_context(brand_slug=opts.brand, origin=opts.origin, customer_ref=opts.ref)
        token = ""
        if not anonymous and ctx.get("secret") and ctx.get("ref"):
            token = mint_token(secret=ctx["secret"], brand_slug=opts.brand, customer_ref=ctx["ref"])
        attrs = {
            "src": f"{opts.candor}/static/widget.js",
            "data-key": ctx.get("key") or "",
            "data-slot": "home",
        }
        if token:
            attrs["data-customer-token"] = token
        if opts.api:
            attrs["data-api"] = opts.api
        tag = "<script " + " ".join(f'{k}="{html.escape(v)}"' for k, v in attrs.items())
        tag += " async></script>"
        if not ctx.get("key"):
            status = f"No widget key of brand {opts.brand!r} allows {opts.origin}: run demo_data."
        elif token:
            status = f"Signed in as the brand's customer {ctx['ref']!r} (token minted server-side)."
        else:
            status = "Not signed in: the widget shows popular products and tracks nothing."
        template = (HERE / "index.html").read_text()
        return (
            template.replace("{{ brand }}", html.escape(ctx["brand"].name if ctx else opts.brand))
            .replace("{{ status }}", html.escape(status))
            .replace("{{ widget }}", tag)
        )

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
            "frame-ancestors 'none'",
        )
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # quiet: no tokens in logs
        return


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BRANDSITE_PORT", 8001)))
    parser.add_argument(
        "--candor",
        default=os.environ.get(
            "CANDOR_URL", f"http://127.0.0.1:{os.environ.get('WEB_PORT', 8000)}"
        ),
        help="where Candor runs (widget.js comes from there)",
    )
    parser.add_argument("--api", default="", help="API origin, if not the same as --candor")
    parser.add_argument("--brand", default="northwind", help="the brand's slug")
    parser.add_argument("--ref", default=None, help="the brand's customer reference to sign in")
    opts = parser.parse_args(argv)
    opts.candor = opts.candor.rstrip("/")
    opts.api = opts.api.rstrip("/")
    opts.origin = f"http://{opts.host}:{opts.port}"
    _setup_django()
    BrandSite.options = opts
    server = HTTPServer((opts.host, opts.port), BrandSite)
    print(f"Demo brand site: {opts.origin}/  (widget from {opts.candor})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
