from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    default = True
    name = "accounts"
    verbose_name = "Accounts (L1)"

    def ready(self) -> None:
        from . import datakinds  # noqa: F401  registers this app's data kinds


class CandorAdminConfig(admin_apps.AdminConfig):
    """Replaces django.contrib.admin so `admin.site` is Candor's MFA-gated site."""

    default = False
    default_site = "accounts.admin_site.CandorAdminSite"
