"""The recommendation app's own pages (the widget API itself is mounted in config/api.py)."""

from django.urls import path

from .widget import views

urlpatterns = [
    path("widget/docs/", views.widget_docs, name="widget_docs"),
]
