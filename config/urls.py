from django.contrib import admin
from django.urls import include, path

from transparency import views as transparency_views

urlpatterns = [
    path("", transparency_views.root, name="root"),
    path("accounts/", include("allauth.urls")),
    path("me/", include("transparency.urls")),
    path("admin/", admin.site.urls),
]
