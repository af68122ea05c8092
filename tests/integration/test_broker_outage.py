"""F2: with the broker unreachable, customer actions still answer fast and lose nothing.

The test process publishes to a closed loopback port (the machine's shared Redis is never
stopped); 200 signed-in requests each record work through the outbox. Then the broker
URL is restored, the relay publishes what waited, and a real worker runs every task
exactly once.
"""

import time

import pytest
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_POST

from accounts import outbox
from accounts.models import OutboxMessage
from config.celery import app as celery_app
from tests.conftest import wait_for
from tests.integration.tasks import executions
from tests.production.broker import broker_at, closed_port

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def empty_broker():
    """No message left over from an earlier run (this run's broker only: own var dir/DB)."""
    celery_app.control.purge()


ACTIONS = 200
REQUEST_BUDGET_SECONDS = 1.0


@require_POST
@login_required
def save_and_enqueue(request, n: int):
    """Stands in for a dashboard action: change something, ask for work later."""
    outbox.enqueue(task="diagnostics.record", kwargs={"key": f"outage-{n}"})
    return HttpResponse("saved")


urlpatterns = [path("actions/<int:n>/", save_and_enqueue)]


@pytest.mark.urls(__name__)
def test_it_answers_within_a_second_and_loses_nothing(
    client, alice, empty_broker, record_task, celery_worker
):
    client.force_login(alice.user)
    slowest = 0.0

    with broker_at(f"redis://127.0.0.1:{closed_port()}/6"):
        for n in range(ACTIONS):
            started = time.monotonic()
            response = client.post(f"/actions/{n}/")
            slowest = max(slowest, time.monotonic() - started)
            assert response.status_code == 200
        waiting = OutboxMessage.objects.count()
        relayed_while_down = outbox.relay_pending(limit=1000)

    assert slowest < REQUEST_BUDGET_SECONDS, f"slowest request took {slowest:.2f} s"
    assert waiting == ACTIONS
    assert relayed_while_down == 0
    assert executions() == []

    # The broker is back: the relay publishes everything that waited.
    assert outbox.relay_pending(limit=1000) == ACTIONS
    assert OutboxMessage.objects.count() == 0

    wait_for(
        lambda: sum(1 for _, _, completed in executions() if completed == 1) == ACTIONS,
        timeout=180,
        interval=0.5,
    )
    rows = executions()
    assert sorted(key for key, _, _ in rows) == sorted(f"outage-{n}" for n in range(ACTIONS))
    assert {(started, completed) for _, started, completed in rows} == {(1, 1)}
