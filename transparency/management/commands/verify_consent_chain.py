"""Check every customer's consent history chain (or one customer's); exits 1 on a break."""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import ConsentEvent, Customer
from transparency.standards.chain import chain_verify


class Command(BaseCommand):
    help = "Verify the consent history hash chain of every customer, or of --customer."

    def add_arguments(self, parser):
        parser.add_argument("--customer", help="a customer's public id")

    def handle(self, *args, customer=None, **options):
        if customer:
            ids = list(Customer.objects.filter(public_id=customer).values_list("pk", flat=True))
            if not ids:
                raise CommandError(f"No customer {customer}")
        else:
            ids = list(
                ConsentEvent.objects.order_by("customer_id")
                .values_list("customer_id", flat=True)
                .distinct()
            )
        rows = broken = 0
        for customer_id in ids:
            result = chain_verify(customer_id=customer_id)
            rows += result.rows
            for pk, why in result.broken:
                broken += 1
                self.stderr.write(f"customer #{customer_id}: row {pk}: {why}")
        summary = f"{len(ids)} customer(s), {rows} row(s) checked, {broken} broken."
        if broken:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
