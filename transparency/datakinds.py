"""The kinds of customer data transparency holds: proof of deletions and requests."""

from .access_log import access_sentence
from .registry import DataKind, Purpose, Source, Summary, audit_sentence_set, register, when

# The access log (declared by accounts) is worded by this app.
audit_sentence_set(access_sentence)

register(
    DataKind(
        name="deletion_receipt",
        label="Deletion receipts",
        model="transparency.DeletionReceipt",
        owner="customer",
        source=Source.OBSERVED,
        purposes=(Purpose.ACCOUNTABILITY,),
        description="Proof of each deletion: which kinds, how many items, when, and which "
        "model version was retrained without them. Never the deleted content.",
        sensitivity="low",
        summary=Summary(lambda o: f"{o.get_scope_display()}: {o.total} item(s) deleted"),
        not_deletable_alone="Proof of deletions; receipts hold no personal content.",
        kept_as_proof=True,
        created_field="requested_at",
    ),
    DataKind(
        name="data_request",
        label="Export and erasure requests",
        model="transparency.DataRequest",
        owner="customer",
        source=Source.OBSERVED,
        purposes=(Purpose.ACCOUNTABILITY,),
        description="Each export or erasure you asked for, when it was received, its "
        "deadline and when it was done.",
        sensitivity="low",
        summary=Summary(
            lambda o: (
                f"{o.get_kind_display()}: {o.get_state_display().lower()}, "
                f"deadline {when(o.deadline)}"
            )
        ),
        not_deletable_alone="Proof of your requests; they hold no personal content.",
        kept_as_proof=True,
        created_field="received_at",
    ),
)
