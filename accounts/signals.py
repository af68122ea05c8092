"""What the lower layers tell the layers above them, without importing them.

`purposes_changed` is sent when a brand's record changed customers' consent to a purpose
that shapes their recommendations (personalization, cross-brand), with `customer_ids`:
those customers, sorted. Recommendations connects to it in AppConfig.ready to drop their
cached results and recompute them (off means off in the widget too, as for a choice made
on the dashboard). Sent inside the change's transaction; receivers defer their own work
to commit as they would when called directly.

`consent_withdrawn` is sent when a brand's record withdrew customers' consent to a purpose,
with `customer_ids` (sorted), `purpose` and `brand_id` (the brand that sent it).
Transparency connects to it to delete what was held only under that purpose (partner data
under "Third-party enrichment"), with receipts, as when the customer switches it off.
"""

from django.dispatch import Signal

purposes_changed = Signal()
consent_withdrawn = Signal()
