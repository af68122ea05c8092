"""Every page and export one customer can open, for tests that check none answers 5xx."""

from django.urls import reverse

from tests.factories import PASSWORD
from transparency import registry

EXPORTS = ("dashboard:data_export_json", "dashboard:data_export_html")
PAGES = (
    "dashboard:home",
    "dashboard:activity",
    "dashboard:orders",
    "dashboard:saved",
    "dashboard:profile",
    "dashboard:data",
    "dashboard:recommendations",
    "dashboard:access_log",
)


def _reauthenticate(client, url: str) -> None:
    response = client.get(url)
    if response.status_code == 302 and "reauthenticate" in response.url:
        client.post(response.url, {"password": PASSWORD})


def every_page(client) -> dict[str, int]:
    """name -> status of every dashboard page, every kind's My data page and both exports
    (streamed to the end: an export fails while it is produced, not when it starts)."""
    statuses = {name: client.get(reverse(name)).status_code for name in PAGES}
    for kind in registry.all_kinds():
        url = reverse("dashboard:data_kind", args=[kind.name])
        statuses[f"data_kind:{kind.name}"] = client.get(url).status_code
    _reauthenticate(client, reverse(EXPORTS[0]))
    for name in EXPORTS:
        response = client.get(reverse(name))
        if response.streaming:
            b"".join(response.streaming_content)
        statuses[name] = response.status_code
    return statuses
