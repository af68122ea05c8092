from django.apps import AppConfig


class TransparencyConfig(AppConfig):
    name = "transparency"
    verbose_name = "Transparency"

    def ready(self) -> None:
        from accounts.signals import consent_withdrawn
        from recommendations.signals import training_run_succeeded

        from . import datakinds  # noqa: F401  registers this app's data kinds
        from .retrains import on_training_run_succeeded
        from .services import on_consent_withdrawn

        # A lower layer's news, heard here: a model trained without a switch-off or a
        # deletion marks them (choice history, receipts).
        training_run_succeeded.connect(
            on_training_run_succeeded, dispatch_uid="candor-retrain-marks"
        )
        # A brand's record withdrew a consent: what was held only under it goes.
        consent_withdrawn.connect(on_consent_withdrawn, dispatch_uid="candor-consent-withdrawn")
