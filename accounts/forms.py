from allauth.account import forms as allauth_forms
from allauth.account.adapter import get_adapter
from allauth.account.internal.userkit import filter_users_by_email


class SignupForm(allauth_forms.SignupForm):
    def validate_unique_email(self, value):
        # Never say "this email is taken": allauth then answers as for a fresh email
        # and mails the owner instead (see accounts.stages).
        email = get_adapter().validate_unique_email(value)
        self.account_already_exists = bool(filter_users_by_email(email))
        return email
