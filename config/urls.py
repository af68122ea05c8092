from django.contrib import admin
from django.urls import include, path

from config.api import api
from config.health import health
from transparency import link_views
from transparency import views as transparency_views
from transparency.standards import dsr_views, reveal_views
from transparency.standards import views as standards_views

urlpatterns = [
    path("", transparency_views.root, name="root"),
    path("accounts/", include("allauth.urls")),
    path("me/", include("transparency.urls")),
    path("transparency/", transparency_views.statement, name="transparency_statement"),
    path("receipts/<uuid:public_id>/", transparency_views.receipt, name="receipt"),
    path("link/", link_views.link_open, name="link_open"),
    path("link/confirm/", link_views.link_confirm, name="link_confirm"),
    path("", include("ledger.urls")),
    path(".well-known/jwks.json", standards_views.jwks, name="jwks"),
    # Staff only, through the admin site's gate (staff, MFA): records of processing (Art. 30).
    path(
        "admin/records-of-processing.json",
        admin.site.admin_view(standards_views.art30_json),
        name="art30_json",
    ),
    path(
        "admin/records-of-processing.csv",
        admin.site.admin_view(standards_views.art30_csv),
        name="art30_csv",
    ),
    path("admin/dsr/", admin.site.admin_view(dsr_views.console), name="dsr_console"),
    path("admin/dsr.csv", admin.site.admin_view(dsr_views.console_csv), name="dsr_console_csv"),
    path(
        "admin/reveal/<slug:kind>/<int:pk>/<slug:field>/",
        admin.site.admin_view(reveal_views.field_reveal),
        name="field_reveal",
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("health/", health, name="health"),
    path("", include("recommendations.urls")),
]
