"""What the recommendations layer tells the layers above it, without importing them.

`training_run_succeeded` is sent once a brand's retrain is committed and active, with:
brand_id, run_id, data_read_from (the run's claim time: every change committed before it
is in the training data, see services.training_run_claim) and finished_at. Transparency
connects to it in AppConfig.ready to mark the choices and deletion receipts that model
was trained without.
"""

from django.dispatch import Signal

training_run_succeeded = Signal()
