"""The session engine (settings.SESSION_ENGINE): Django's database sessions, each row
tagged with the account its data refers to (accounts.models.AccountSession).

Three places in a session's data name a user: Django's signed-in user id, allauth's
stashed login (a sign-in waiting for a further step such as the TOTP code; key and format
from `allauth.account.internal.stagekit` and `Login.serialize`), and allauth's record of
how that user authenticated. Whichever is present tags the row, so erasure can end a
half-finished login as well as a signed-in session.
"""

from allauth.account.internal.stagekit import LOGIN_SESSION_KEY
from allauth.account.internal.userkit import str_to_user_id
from allauth.account.utils import url_str_to_user_pk
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.core.exceptions import ValidationError

# allauth.account.internal.flows.login._AUTHENTICATION_METHODS_USER_SESSION_KEY (private).
AUTHENTICATED_USER_KEY = "account_authentication_methods_user"


def account_of(data: dict) -> int | None:
    """The id of the user this session's data refers to, if any."""
    login = data.get(LOGIN_SESSION_KEY)
    candidates = (
        (data.get(SESSION_KEY), str_to_user_id),
        (login.get("user_pk") if isinstance(login, dict) else None, url_str_to_user_pk),
        (data.get(AUTHENTICATED_USER_KEY), str_to_user_id),
    )
    for value, parse in candidates:
        if value is None:
            continue
        try:
            return int(parse(value))
        except (TypeError, ValueError, ValidationError):
            continue
    return None


class SessionStore(DBStore):
    @classmethod
    def get_model_class(cls):
        from .models import AccountSession

        return AccountSession

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        session.account_id = account_of(data)
        return session
