"""The recommendation app's own pages.

`dashboard`: the customer's Recommendations page, spliced into the dashboard's named pages
(transparency.urls); `urlpatterns`: the brands' widget docs (the widget API itself is
mounted in config/api.py).
"""

from django.urls import path

from . import views as rec_views
from .widget import views

dashboard = [
    path("recommendations/", rec_views.recommendations, name="recommendations"),
    path(
        "recommendations/product/<int:product_id>/not-interested/",
        rec_views.not_interested,
        name="rec_not_interested",
    ),
]

urlpatterns = [
    path("widget/docs/", views.widget_docs, name="widget_docs"),
]
