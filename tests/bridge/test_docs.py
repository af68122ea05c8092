"""The brand docs explain the connect link and every webhook event, with snippets."""

from accounts.links import LINK_AUDIENCE
from accounts.models import WebhookEventType


def test_the_brand_docs_cover_the_link_and_every_webhook_event(client, db):
    page = client.get("/widget/docs/").content.decode()

    assert f"&quot;aud&quot;: &quot;{LINK_AUDIENCE}&quot;" in page or LINK_AUDIENCE in page
    assert "/link/?token=" in page
    for event_type in WebhookEventType.values:
        assert f"<code>{event_type}</code>" in page
    assert "/api/v1/erasures/" in page and "/api/v1/webhooks/endpoints" in page
    assert "import jwt" in page and 'require("standardwebhooks")' in page
