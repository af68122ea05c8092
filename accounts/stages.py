from allauth.account import stages
from allauth.account.adapter import get_adapter
from allauth.account.internal.flows.email_verification import send_verification_email_at_login
from allauth.account.models import EmailAddress
from allauth.account.utils import has_verified_email


class EmailVerificationStage(stages.EmailVerificationStage):
    """Mandatory verification, but only for accounts that gave an email.

    A username-only account has nothing to verify, so it passes. An account with an email
    signs in only once it is verified. A sign-up with a taken email arrives here with no
    user (allauth's enumeration-prevention flow) and gets the same "check your mail" answer
    as a fresh one, while the owner gets an "account already exists" mail.
    """

    def handle(self):
        login = self.login
        if (
            login.user is not None
            and not login.email
            and not EmailAddress.objects.filter(user_id=login.user.pk).exists()
        ):
            return None, True
        if login.user is not None and has_verified_email(login.user, login.email):
            return None, True
        send_verification_email_at_login(self.request, login)
        return get_adapter().respond_email_verification_sent(self.request, login.user), True
