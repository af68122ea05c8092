import time
import uuid

from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError

from config.celery import PONG_KEY, ping


class Command(BaseCommand):
    help = "Send diagnostics.ping through the broker and wait for a worker to answer."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=30.0)

    def handle(self, *args, timeout, **options):
        token = uuid.uuid4().hex
        started = time.monotonic()
        ping.delay(token)
        while time.monotonic() - started < timeout:
            if cache.get(PONG_KEY.format(token=token)) is not None:
                elapsed = time.monotonic() - started
                self.stdout.write(self.style.SUCCESS(f"Worker answered in {elapsed:.2f}s."))
                return
            time.sleep(0.1)
        raise CommandError(f"No worker answered within {timeout:.0f}s.")
