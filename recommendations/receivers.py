"""Receivers for what the lower layers announce (connected in RecommendationsConfig.ready)."""

from . import services


def results_refresh(sender, *, customer_ids, **kwargs) -> None:
    """A brand's record changed consent that shapes results: forget the customers' cached
    answers and recompute them."""
    for customer_id in customer_ids:
        services.customer_cache_forget(customer_id=customer_id)
        services.customer_recompute_request(customer_id=customer_id)
