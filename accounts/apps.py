from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    default = True
    name = "accounts"
    verbose_name = "Accounts (L1)"

    def ready(self) -> None:
        # This app's data kinds, and its tasks so any process (web too) can publish them by
        # name through the outbox (the webhook dispatch asked for after an emit).
        from . import datakinds, tasks  # noqa: F401


class CandorAdminConfig(admin_apps.AdminConfig):
    """Replaces django.contrib.admin so `admin.site` is Candor's MFA-gated site."""

    default = False
    default_site = "accounts.admin_site.CandorAdminSite"
