from django.contrib import admin, messages

from . import services
from .models import TrainingRun


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "brand",
        "state",
        "is_active",
        "algorithm",
        "reg",
        "validation",
        "reason",
        "n_users",
        "n_items",
        "n_ratings",
        "duration_seconds",
        "created_at",
    ]
    list_filter = ["state", "is_active", "brand"]
    list_select_related = ["brand"]
    search_fields = ["brand__name", "data_fingerprint"]
    readonly_fields = [*(f.name for f in TrainingRun._meta.fields), "validation"]
    actions = ["retrain_now"]

    @admin.display(description="validation NDCG@10 (model / popularity)")
    def validation(self, obj: TrainingRun) -> str:
        """The offline figures the reg was chosen on (newest 20% of the brand's signals)."""
        found = (obj.metrics or {}).get("validation") or {}
        if not found.get("tuned"):
            return found.get("note", "-")
        return (
            f"{found['ndcg_at_10']:.3f} / {found['popularity_ndcg_at_10']:.3f} "
            f"on {found['users']} customers"
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Retrain these brands now", permissions=["view"])
    def retrain_now(self, request, queryset):
        brand_ids = sorted(set(queryset.values_list("brand_id", flat=True)))
        for brand_id in brand_ids:
            services.brand_retrain_request(
                brand_id=brand_id, reason=f"admin: {request.user.get_username()}"
            )
        self.message_user(
            request, f"Retrain requested for {len(brand_ids)} brand(s).", messages.SUCCESS
        )
