from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "Ledger (L2)"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from . import datakinds  # noqa: F401  registers this app's data kinds
        from .storedtimes import install_safe_time_loaders

        connection_created.connect(install_safe_time_loaders, dispatch_uid="ledger_safe_times")
