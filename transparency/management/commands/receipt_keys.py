"""Consent receipt keys: print the published JWKS, or a new key to put first.

Rotation, like FIELD_ENCRYPTION_KEYS: `receipt_keys --new`, put the printed key first in
CONSENT_RECEIPT_KEYS, keep the old keys after it while receipts they signed should still
verify (they stay in the JWKS), restart.
"""

import json

from django.core.management.base import BaseCommand

from transparency.standards import receipts


class Command(BaseCommand):
    help = "Print the consent receipt JWKS, or --new: a fresh signing key."

    def add_arguments(self, parser):
        parser.add_argument("--new", action="store_true")

    def handle(self, *args, new=False, **options):
        if new:
            self.stdout.write(receipts.new_key())
            return
        self.stdout.write(json.dumps(receipts.jwks(), indent=2))
