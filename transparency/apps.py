from django.apps import AppConfig


class TransparencyConfig(AppConfig):
    name = "transparency"
    verbose_name = "Transparency"

    def ready(self) -> None:
        from . import datakinds  # noqa: F401  registers this app's data kinds
