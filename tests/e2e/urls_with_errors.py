"""The project's URLs plus one that fails, so the browser tests can look at the 500 page."""

from django.urls import path

from config.urls import urlpatterns as project


def boom(request):
    raise RuntimeError("a deliberate failure for the 500 page")


urlpatterns = [*project, path("boom/", boom)]
