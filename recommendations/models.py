"""L3: what the brand inferred, and the training runs it was inferred by.

Per-customer results are data points of source "inferred" (they carry `in_use` like every
ledger row, and are registered in datakinds.py), so the customer sees, exports and deletes
them like everything else.
"""

from django.db import models
from django.db.models.expressions import Col

from accounts.models import Brand, Customer
from ledger.models import DataPoint, Product
from transparency.registry import SOURCE_CHOICES, Source


class TrainingRun(models.Model):
    """One retrain of one brand's model. Not customer data: counts and metrics only."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Algorithm(models.TextChoices):
        SVD = "svd", "SVD (matrix factorization)"
        EASE = "ease", "EASE (item-item, closed form)"
        ALS = "als", "ALS (implicit feedback, large catalogues)"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="training_runs")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    algorithm = models.CharField(max_length=20, choices=Algorithm.choices, default=Algorithm.SVD)
    reason = models.CharField(max_length=60, blank=True)
    data_fingerprint = models.CharField(max_length=64, blank=True)
    n_users = models.PositiveIntegerField(default=0)
    n_items = models.PositiveIntegerField(default=0)
    n_ratings = models.PositiveIntegerField(default=0)
    # The L2 penalty tuned for this brand on a validation cut of its own data (the next run
    # searches around it); `metrics["validation"]` holds the figures it was chosen on.
    reg = models.FloatField(null=True, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    artefact_path = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When a customer's switch-off or deletion (or a retention sweep) last asked for this
    # run: data that went. No model that may have read data since withdrawn is a starting
    # point for another (training.run._warm_source); kept on the brand's runs for good.
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand"], condition=models.Q(is_active=True), name="one_active_run"
            )
        ]

    def __str__(self) -> str:
        return f"{self.brand} run #{self.pk} ({self.state})"


class _JsonbCol(Col):
    """A ``json`` column read as ``jsonb``: lookups, key transforms and reads behave as on
    any JSONField (``json`` has no equality or containment operators of its own)."""

    def as_postgresql(self, compiler, connection):
        sql, params = self.as_sql(compiler, connection)
        return f"({sql})::jsonb", params


class WrittenJSONField(models.JSONField):
    """A JSONField stored as PostgreSQL ``json`` (its text as written, checked for syntax)
    instead of ``jsonb`` (parsed into a binary tree on every insert), for values written in
    bulk and read whole: turning 500,000 explanations into ``jsonb`` was about 4 s of a
    large brand's retrain, ``json`` takes a quarter of that. Every read, filter and key
    lookup goes through ``::jsonb``, so it behaves as any JSONField (SQLite: unchanged)."""

    def db_type(self, connection):
        return "json" if connection.vendor == "postgresql" else super().db_type(connection)

    def get_col(self, alias, output_field=None):
        if output_field is None or output_field == self:
            return _JsonbCol(alias, self, output_field)
        return super().get_col(alias, output_field)

    @property
    def cached_col(self):
        return _JsonbCol(self.model._meta.db_table, self)

    def from_db_value(self, value, expression, connection):
        if value is not None and not isinstance(value, str):
            return value  # a raw ``json`` read: psycopg has already decoded it
        return super().from_db_value(value, expression, connection)


def _json_introspected() -> None:
    """Django's PostgreSQL introspection names ``jsonb`` columns but not ``json`` ones (a
    KeyError in ``get_field_type``, so in ``inspectdb`` and in any scan of every column):
    ``json`` is a JSONField too."""
    try:
        from django.db.backends.postgresql.introspection import DatabaseIntrospection
    except ImportError:  # no PostgreSQL driver installed: nothing to introspect
        return
    DatabaseIntrospection.data_types_reverse.setdefault(114, "JSONField")  # pg_type json


_json_introspected()


class ResultRow(DataPoint):
    """A row of a brand's result set, rewritten whole by every retrain
    (``training.writer``: hundreds of thousands of rows in one transaction).

    Its references are kept by that writer, not by database foreign-key constraints: a
    constraint checks each inserted row with its own lookup at COMMIT (about 2.3 s per
    reference per 500,000 rows in PostgreSQL, most of a large brand's retrain), while the
    writer has already locked every customer it writes for (``accounts.locks``), takes only
    products that still exist and holds the run and brand rows it writes under, and
    checks the whole result set with one anti-join per reference before it commits.
    Deletions still reach these rows: erasure and Django's collector follow the relation
    whatever the constraint. Single-column indexes nothing reads are left out (the
    (customer, brand, ...) index serves every per-customer lookup).
    """

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    brand = models.ForeignKey(
        Brand,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class Recommendation(ResultRow):
    """One recommended product for one customer of one brand, with why.

    `explanation` lists the customer's own allowed data points that drove it:
    [{"kind": "event"|"order", "pk": int, "label": "bought X", "date": "YYYY-MM-DD"}].
    `is_popular` marks honest cold start: popular items, nothing personal behind them.
    """

    source = models.CharField(max_length=20, choices=SOURCE_CHOICES, default=Source.INFERRED)
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    rank = models.PositiveSmallIntegerField()
    score = models.FloatField()
    is_popular = models.BooleanField(default=False)
    explanation = WrittenJSONField(default=list, blank=True)
    training_run = models.ForeignKey(
        TrainingRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )

    class Meta:
        ordering = ["brand", "rank"]
        indexes = [
            models.Index(fields=["customer", "brand", "rank"]),
            # The few rows a customer switched off, found without reading the brand's whole
            # result set (a retrain carries them over: training.writer).
            models.Index(fields=["brand"], condition=models.Q(in_use=False), name="rec_off"),
        ]

    def __str__(self) -> str:
        return f"#{self.rank} product {self.product_id}"


class InferredInterest(ResultRow):
    """A category the customer seems to like, from their allowed activity (weight 0-1)."""

    source = models.CharField(max_length=20, choices=SOURCE_CHOICES, default=Source.INFERRED)
    category = models.CharField(max_length=100)
    weight = models.FloatField()

    class Meta:
        ordering = ["brand", "-weight"]
        indexes = [
            models.Index(fields=["customer", "brand"]),
            models.Index(fields=["brand"], condition=models.Q(in_use=False), name="interest_off"),
        ]

    def __str__(self) -> str:
        return self.category


class ContactHourInference(ResultRow):
    """The hour of day (0-23, UTC) the customer is most often active with a brand."""

    source = models.CharField(max_length=20, choices=SOURCE_CHOICES, default=Source.INFERRED)
    hour = models.PositiveSmallIntegerField()
    confidence = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["customer", "brand"])]

    def __str__(self) -> str:
        return f"{self.hour:02d}:00"
