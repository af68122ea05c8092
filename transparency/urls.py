from django.urls import path

from ledger import views as ledger_views
from ledger.messages import views as message_views
from recommendations import views as rec_views

from . import views
from .standards import views as standards_views

app_name = "dashboard"


def _planned(section: str):
    return path(f"{section}/", views.planned, {"section": section}, name=section)


urlpatterns = [
    path("", views.home, name="home"),
    path("profile/", ledger_views.profile, name="profile"),
    path("saved/", ledger_views.saved, name="saved"),
    path("orders/", ledger_views.orders, name="orders"),
    path("activity/", ledger_views.activity, name="activity"),
    path("messages/", message_views.inbox, name="messages"),
    path("messages/go/", message_views.messages_go, name="messages_go"),
    path("messages/<uuid:public_id>/open/", message_views.inbox_open, name="messages_open"),
    path("saved/addresses/add/", ledger_views.address_add, name="ledger_address_add"),
    path("saved/addresses/<int:pk>/edit/", ledger_views.address_edit, name="ledger_address_edit"),
    path(
        "saved/addresses/<int:pk>/delete/",
        ledger_views.address_delete,
        name="ledger_address_delete",
    ),
    path(
        "saved/addresses/<int:pk>/default/",
        ledger_views.address_default,
        name="ledger_address_default",
    ),
    path("saved/cards/add/", ledger_views.card_add, name="ledger_card_add"),
    path("saved/cards/<int:pk>/delete/", ledger_views.card_delete, name="ledger_card_delete"),
    path("saved/cards/<int:pk>/default/", ledger_views.card_default, name="ledger_card_default"),
    path("saved/contact/", ledger_views.contact_set, name="ledger_contact"),
    path("saved/contact/<int:brand_id>/", ledger_views.contact_set, name="ledger_contact_brand"),
    path("orders/<int:pk>/gift/", ledger_views.order_gift, name="ledger_order_gift"),
    path("orders/<int:pk>/reorder/", ledger_views.order_reorder, name="ledger_order_reorder"),
    path("recommendations/", rec_views.recommendations, name="recommendations"),
    path(
        "recommendations/product/<int:product_id>/not-interested/",
        rec_views.not_interested,
        name="rec_not_interested",
    ),
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
