from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "Ledger (L2)"

    def ready(self) -> None:
        from . import datakinds  # noqa: F401  registers this app's data kinds
