"""The ledger's pages.

`dashboard`: the customer's own records, included by transparency.urls under /me/ (URL
namespace "dashboard"). `urlpatterns`: the links in messages (a button, one-click
unsubscribe), included by config.urls at the site's root, no namespace.
"""

from django.urls import path

from . import views
from .messages import views as message_views

dashboard = [
    path("profile/", views.profile, name="profile"),
    path("saved/", views.saved, name="saved"),
    path("orders/", views.orders, name="orders"),
    path("activity/", views.activity, name="activity"),
    path("messages/", message_views.inbox, name="messages"),
    path("messages/go/", message_views.messages_go, name="messages_go"),
    path("messages/<uuid:public_id>/open/", message_views.inbox_open, name="messages_open"),
    path("saved/addresses/add/", views.address_add, name="ledger_address_add"),
    path("saved/addresses/<int:pk>/edit/", views.address_edit, name="ledger_address_edit"),
    path("saved/addresses/<int:pk>/delete/", views.address_delete, name="ledger_address_delete"),
    path(
        "saved/addresses/<int:pk>/default/",
        views.address_default,
        name="ledger_address_default",
    ),
    path("saved/cards/add/", views.card_add, name="ledger_card_add"),
    path("saved/cards/<int:pk>/delete/", views.card_delete, name="ledger_card_delete"),
    path("saved/cards/<int:pk>/default/", views.card_default, name="ledger_card_default"),
    path("saved/contact/", views.contact_set, name="ledger_contact"),
    path("saved/contact/<int:brand_id>/", views.contact_set, name="ledger_contact_brand"),
    path("orders/<int:pk>/gift/", views.order_gift, name="ledger_order_gift"),
    path("orders/<int:pk>/reorder/", views.order_reorder, name="ledger_order_reorder"),
]

urlpatterns = [
    path("m/<str:token>/", message_views.message_action, name="message_action"),
    path(
        "messages/unsubscribe/<str:token>/",
        message_views.message_unsubscribe,
        name="message_unsubscribe",
    ),
]
