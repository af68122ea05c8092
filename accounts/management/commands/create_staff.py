import os

from django.core.management.base import BaseCommand, CommandError

from accounts.services import staff_user_upsert


class Command(BaseCommand):
    help = (
        "Create or update a staff account without prompts (for scripts). The password comes "
        "from --password or the CANDOR_STAFF_PASSWORD environment variable."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--password", default=None)
        parser.add_argument("--superuser", action="store_true")

    def handle(self, *args, username, email, password, superuser, **options):
        password = password or os.environ.get("CANDOR_STAFF_PASSWORD")
        if not password:
            raise CommandError("Give --password or set CANDOR_STAFF_PASSWORD.")
        user, created = staff_user_upsert(
            username=username, password=password, email=email, superuser=superuser
        )
        verb = "Created" if created else "Updated"
        role = "superuser" if user.is_superuser else "staff"
        self.stdout.write(self.style.SUCCESS(f"{verb} {role} account {username!r}."))
