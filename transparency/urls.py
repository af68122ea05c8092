from django.urls import path

from . import views

app_name = "dashboard"


def _planned(section: str):
    return path(f"{section}/", views.planned, {"section": section}, name=section)


urlpatterns = [
    path("", views.home, name="home"),
    _planned("profile"),
    _planned("saved"),
    _planned("orders"),
    _planned("activity"),
    _planned("recommendations"),
    _planned("data"),
    path("security/", views.security, name="security"),
]
