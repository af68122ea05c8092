"""The kinds of customer data the accounts app holds: who the customer is, how they sign in,
their choices and the access log. Everything about a kind is declared here (summary,
secrets, retention, whether it can be deleted on its own)."""

from transparency.registry import (
    IDENTITY,
    DataKind,
    Merge,
    Purpose,
    Source,
    Summary,
    audit_sentence,
    display,
    kind_label,
    possessive,
    purpose_label,
    register,
    when,
)

from .models import Sensitivity

CLOSE_ACCOUNT = "Goes when you close your account."
ON_SECURITY_PAGE = "Managed on the Security page."


def _account(o) -> str:
    email = f", email {o.email}" if o.email else ", no email"
    return f"Username {o.username}{email}, joined {when(o.date_joined)}"


def _email(o) -> str:
    state = "verified" if o.verified else "not verified"
    return f"{o.email} ({state}{', primary' if o.primary else ''})"


def _session(o) -> str:
    return f"{o.user_agent[:80] or 'Unknown browser'} from {o.ip}, last seen {when(o.last_seen_at)}"


def _consent_event(o) -> str:
    what = purpose_label(o.purpose) if o.purpose else kind_label(o.data_kind)
    if o.collected_at is not None:  # collected by a brand itself (ingest)
        verb = "given" if o.granted else "refused"
        wording = f" (wording {o.wording_version})" if o.wording_version else ""
        return (
            f"{what}: {verb} at {possessive(o.actor_label)} {o.channel} on "
            f"{when(o.collected_at)}{wording}"
        )
    ref = f" item {o.object_ref}" if o.object_ref else ""
    return f"{what}{ref} switched {'on' if o.granted else 'off'} via {o.channel}"


register(
    DataKind(
        name="account",
        label="Account",
        model="auth.User",
        owner="customer",
        source=Source.PROVIDED,
        purposes=(Purpose.SERVICE,),
        description="Your username, optional email, when you joined and last signed in.",
        sensitivity="low",
        retention_days=None,
        summary=Summary(_account),
        secret_fields=frozenset({"password"}),
        not_deletable_alone=CLOSE_ACCOUNT,
        merge=IDENTITY,
    ),
    DataKind(
        name="customer_record",
        label="Customer record",
        model="accounts.Customer",
        owner="",
        source=Source.PROVIDED,
        purposes=(Purpose.SERVICE,),
        description="The record that ties your data together, with its public id.",
        sensitivity="low",
        retention_days=None,
        summary=Summary(lambda o: f"Customer id {o.public_id}"),
        not_deletable_alone=CLOSE_ACCOUNT,
        merge=IDENTITY,
    ),
    DataKind(
        name="email_address",
        label="Email addresses",
        model="account.EmailAddress",
        owner="user__customer",
        source=Source.PROVIDED,
        purposes=(Purpose.SERVICE, Purpose.CONTACT),
        description="Email addresses on your account and whether they are verified.",
        sensitivity="medium",
        retention_days=None,
        summary=Summary(_email),
        not_deletable_alone=ON_SECURITY_PAGE,
        merge=IDENTITY,
    ),
    DataKind(
        name="mfa_authenticator",
        label="Two-factor authenticators",
        model="mfa.Authenticator",
        owner="user__customer",
        source=Source.PROVIDED,
        purposes=(Purpose.SECURITY,),
        description="Which second factors you enabled (never their secrets).",
        sensitivity="high",
        retention_days=None,
        summary=Summary(
            lambda o: f"{display(o, 'type')}, added {when(o.created_at)} (secret never shown)"
        ),
        secret_fields=frozenset({"data"}),
        not_deletable_alone=ON_SECURITY_PAGE,
        merge=IDENTITY,
    ),
    DataKind(
        name="session",
        label="Signed-in sessions",
        model="usersessions.UserSession",
        owner="user__customer",
        source=Source.OBSERVED,
        purposes=(Purpose.SECURITY,),
        description="Devices signed in to your account: IP address, browser, last seen.",
        sensitivity="medium",
        retention_days=90,
        retention={Sensitivity.RETAIL: 90, Sensitivity.BANKING: 30},
        summary=Summary(_session),
        secret_fields=frozenset({"session_key", "data"}),
        not_deletable_alone="Managed on the Security page, where you can sign out other devices.",
        merge=IDENTITY,
    ),
    DataKind(
        name="access_log",
        label="Access log",
        model="accounts.AuditEvent",
        owner="customer",
        source=Source.OBSERVED,
        purposes=(Purpose.ACCOUNTABILITY,),
        description="Who read or changed your data, when and why.",
        sensitivity="low",
        retention_days=None,
        summary=Summary(audit_sentence, related=("actor_user", "actor_brand")),
        not_deletable_alone="Kept so you can always see who accessed your data; it goes when "
        "you close your account.",
    ),
)

register(
    DataKind(
        name="brand_link",
        label="Brands you deal with",
        model="accounts.CustomerBrand",
        owner="customer",
        source=Source.THIRD_PARTY,
        purposes=(Purpose.SERVICE, Purpose.CROSS_BRAND),
        description="Each brand's own reference for you, and whether it may see data your "
        "other brands in the group recorded.",
        sensitivity="low",
        summary=Summary(
            lambda o: (
                f"{o.brand.name} knows you as “{o.external_ref}”; sharing across brands "
                f"{'allowed' if o.share_across_brands else 'not allowed'}"
            ),
            related=("brand",),
        ),
        brand_field="brand",
        created_field="created_at",
        merge=Merge(key=("brand",), stricter=(("share_across_brands", False),)),
    ),
    DataKind(
        name="consent",
        label="Your choices",
        model="accounts.PurposeConsent",
        owner="customer",
        source=Source.PROVIDED,
        purposes=(Purpose.ACCOUNTABILITY,),
        description="Which purposes you allow your data to be used for.",
        sensitivity="low",
        summary=Summary(
            lambda o: f"{purpose_label(o.purpose)}: {'allowed' if o.granted else 'not allowed'}"
        ),
        log_name="choices",
        merge=Merge(key=("purpose",), stricter=(("granted", False),)),
    ),
    DataKind(
        name="consent_history",
        label="History of your choices",
        model="accounts.ConsentEvent",
        owner="customer",
        source=Source.PROVIDED,
        purposes=(Purpose.ACCOUNTABILITY,),
        description="Every change you made to consents and data use, with time and channel.",
        sensitivity="low",
        summary=Summary(_consent_event),
        not_deletable_alone="Kept as proof of the choices you made; it goes when you close "
        "your account.",
        created_field="created_at",
    ),
    DataKind(
        name="kind_setting",
        label="Data kinds switched off",
        model="accounts.KindSetting",
        owner="customer",
        source=Source.PROVIDED,
        purposes=(Purpose.ACCOUNTABILITY,),
        description="Whole kinds of data you told us to keep but not use.",
        sensitivity="low",
        summary=Summary(
            lambda o: f"{kind_label(o.data_kind)}: {'in use' if o.in_use else 'kept, not used'}"
        ),
        merge=Merge(key=("data_kind",), stricter=(("in_use", False),)),
    ),
)
