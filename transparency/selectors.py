from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession

from . import registry


def dashboard_summary(*, user) -> dict:
    kinds = registry.all_kinds()
    return {
        "kind_count": len(kinds),
        "sources": sorted({k.source.label for k in kinds}),
    }


def security_overview(*, user) -> dict:
    return {
        "mfa_types": sorted(Authenticator.objects.filter(user=user).values_list("type", flat=True)),
        "session_count": UserSession.objects.filter(user=user).count(),
        "emails": list(EmailAddress.objects.filter(user=user).values("email", "verified")),
    }
