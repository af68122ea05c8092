"""Staff reach Django admin only through allauth's login and only with MFA enabled."""

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import admin
from django.shortcuts import redirect


def user_has_mfa(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class CandorAdminSite(admin.AdminSite):
    site_header = "Candor staff"
    site_title = "Candor staff"

    def has_permission(self, request) -> bool:
        if not super().has_permission(request):
            return False
        return not settings.ADMIN_REQUIRE_MFA or user_has_mfa(request.user)

    def login(self, request, extra_context=None):
        user = request.user
        if user.is_authenticated and user.is_staff and not self.has_permission(request):
            # Signed in as staff but without MFA: send them to set it up.
            return redirect("mfa_activate_totp")
        from allauth.account.decorators import secure_admin_login

        return secure_admin_login(super().login)(request, extra_context)
