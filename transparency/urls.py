from django.urls import path

from ledger import urls as ledger_urls
from recommendations import urls as rec_urls

from . import views
from .standards import views as standards_views

app_name = "dashboard"


urlpatterns = [
    path("", views.home, name="home"),
    # The ledger's own pages (profile, saved, orders, activity, messages) and the
    # recommendations page, each owned by its app, spliced in so the dashboard's patterns
    # stay one flat list of named pages.
    *ledger_urls.dashboard,
    *rec_urls.dashboard,
    path("data/", views.my_data, name="data"),
    path("data/kind/<slug:kind>/", views.data_kind, name="data_kind"),
    path("data/kind/<slug:kind>/use/", views.data_kind_use, name="data_kind_use"),
    path("data/kind/<slug:kind>/<int:pk>/", views.data_point, name="data_point"),
    path("data/kind/<slug:kind>/delete/", views.data_kind_delete, name="data_kind_delete"),
    path("data/kind/<slug:kind>/<int:pk>/use/", views.data_point_use, name="data_point_use"),
    path(
        "data/kind/<slug:kind>/<int:pk>/delete/",
        views.data_point_delete,
        name="data_point_delete",
    ),
    path("data/brand/<int:brand_id>/delete/", views.data_brand_delete, name="data_brand_delete"),
    path("data/purpose/<slug:purpose>/", views.data_purpose, name="data_purpose"),
    path("data/account/delete/", views.data_account_delete, name="data_account_delete"),
    path("data/export/", views.data_export, name="data_export"),
    path("data/export/json/", views.data_export_json, name="data_export_json"),
    path("data/export/html/", views.data_export_html, name="data_export_html"),
    path("data/receipts/", views.data_receipts, name="data_receipts"),
    path("data/consent-receipts/", standards_views.consent_receipts, name="consent_receipts"),
    path(
        "data/consent-receipts/<int:pk>/",
        standards_views.consent_receipt,
        name="consent_receipt",
    ),
    path("data/consent-history/verify/", standards_views.consent_chain, name="consent_chain"),
    path("access-log/", views.access_log, name="access_log"),
    path("security/", views.security, name="security"),
]
