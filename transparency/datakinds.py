from .registry import DataKind, Source, register

register(
    DataKind(
        name="deletion_receipt",
        label="Deletion receipts",
        model="transparency.DeletionReceipt",
        owner="customer",
        source=Source.OBSERVED,
        purposes=("accountability",),
        description="Proof of each deletion: which kinds, how many items, when, and which "
        "model version was retrained without them. Never the deleted content.",
        sensitivity="low",
        created_field="requested_at",
    ),
    DataKind(
        name="data_request",
        label="Export and erasure requests",
        model="transparency.DataRequest",
        owner="customer",
        source=Source.OBSERVED,
        purposes=("accountability",),
        description="Each export or erasure you asked for, when it was received, its "
        "deadline and when it was done.",
        sensitivity="low",
        created_field="received_at",
    ),
)
