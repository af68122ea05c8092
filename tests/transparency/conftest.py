import pytest

from transparency import services

REC_HOOKS = ("customer_recompute_request", "customer_results_purge", "brand_retrain_request")


@pytest.fixture
def rec_calls(monkeypatch):
    """Record what transparency asks of the recommendations app, instead of doing it."""
    calls = []
    for name in REC_HOOKS:
        monkeypatch.setattr(
            services.rec_services, name, lambda _name=name, **kw: calls.append((_name, kw))
        )
    return calls
