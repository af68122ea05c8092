"""Create a brand's server key or widget key and print it once.

manage.py brand_key --brand northwind server [--label "shop backend"]
manage.py brand_key --brand northwind widget --origin https://shop.example
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.keys import server_key_create, widget_key_create
from accounts.models import Brand


class Command(BaseCommand):
    help = "Create a server key (secret, shown once) or a publishable widget key for a brand."

    def add_arguments(self, parser):
        parser.add_argument("--brand", required=True, help="the brand's slug")
        parser.add_argument("kind", choices=["server", "widget"])
        parser.add_argument("--label", default="", help="server keys: what uses this key")
        parser.add_argument(
            "--origin",
            action="append",
            default=[],
            help="widget keys: an allowed origin, scheme://host[:port] (repeatable)",
        )

    def handle(self, *args, brand, kind, label, origin, **options):
        found = Brand.objects.filter(slug=brand).first()
        if found is None:
            raise CommandError(f"No brand with slug {brand!r}.")
        if kind == "server":
            key, raw = server_key_create(brand=found, label=label)
            self.stdout.write(raw)
            self.stderr.write(
                f"Server key {key.prefix} for {found.name}. This is the only time the secret "
                "is shown: store it now."
            )
            return
        try:
            widget = widget_key_create(brand=found, origins=origin)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(widget.key)
        self.stderr.write(
            f"Widget key for {found.name}, origins: {', '.join(widget.allowed_origins)}"
        )
