from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    name = "recommendations"
    verbose_name = "Recommendations (L3)"

    def ready(self) -> None:
        # Register this app's data kinds, and its tasks so any process (web too) can publish
        # them by name through the outbox.
        from corsheaders.signals import check_request_enabled

        from . import datakinds, tasks  # noqa: F401
        from .widget.auth import cors_request_allowed

        # CORS only for the widget API, only for the key's registered origins. Connected at
        # start-up so a process's first preflight is answered too.
        check_request_enabled.connect(cors_request_allowed, dispatch_uid="candor-widget-cors")

        # A safety net under the services' own invalidation: any saved consent row or
        # customer link (staff in the admin, a future code path) drops the widget's
        # memoized answers for that customer. Saves only: delete signals would stop the
        # bulk deletes erasure relies on, and deletions go through services that purge.
        from django.db.models.signals import post_save

        from accounts.models import CustomerBrand, PurposeConsent

        from .widget.memo import customer_row_saved

        for model in (PurposeConsent, CustomerBrand):
            post_save.connect(
                customer_row_saved,
                sender=model,
                dispatch_uid=f"candor-widget-memo-{model.__name__}",
            )

        # Consent a brand's record changed (accounts.signals): results forgotten, recomputed.
        from accounts.signals import purposes_changed

        from .receivers import results_refresh

        purposes_changed.connect(results_refresh, dispatch_uid="candor-results-refresh")
