"""Invariant 1, nothing hidden: every model that holds customer data is registered."""

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models

from accounts.models import Customer
from transparency import registry

# Models that point at a user but hold no customer data, each with the reason.
NOT_CUSTOMER_DATA = {
    # Staff members' own actions in admin; customers never act there.
    "admin.logentry",
}


def links_to_a_customer(model) -> bool:
    User = get_user_model()
    if model in (Customer, User):
        return True
    return any(
        isinstance(f, models.ForeignKey | models.OneToOneField)
        and f.related_model in (Customer, User)
        for f in model._meta.get_fields()
        if f.concrete
    )


def test_every_model_linked_to_a_customer_is_registered():
    registered = registry.registered_models()
    missing = [
        m._meta.label_lower
        for m in apps.get_models()
        if links_to_a_customer(m)
        and m._meta.label_lower not in registered
        and m._meta.label_lower not in NOT_CUSTOMER_DATA
    ]

    assert missing == [], f"register these with transparency.registry: {missing}"


def test_every_registered_kind_resolves_to_a_model_and_owner_lookup(alice):
    for kind in registry.all_kinds():
        # Raises if the model or the owner lookup path is wrong.
        list(kind.rows_for(alice)[:1])
        assert kind.source in registry.Source
        assert set(kind.purposes) <= registry.PURPOSES.keys()


def test_the_walk_would_catch_an_unregistered_model():
    class Probe(models.Model):
        customer = models.ForeignKey(Customer, on_delete=models.CASCADE)

        class Meta:
            app_label = "transparency"
            managed = False

    try:
        assert links_to_a_customer(Probe)
        assert Probe._meta.label_lower not in registry.registered_models()
    finally:
        apps.all_models["transparency"].pop("probe", None)
        apps.clear_cache()


def test_registering_unknown_purposes_is_refused():
    import pytest

    with pytest.raises(ValueError, match="unknown purposes"):
        registry.register(
            registry.DataKind(
                name="bogus",
                label="Bogus",
                model="accounts.Customer",
                owner="",
                source=registry.Source.PROVIDED,
                purposes=("selling-it",),
            )
        )


def test_one_purpose_vocabulary_covers_every_purpose_table():
    from accounts.models import Purpose as ConsentPurpose
    from transparency.standards import gpc

    for purpose in registry.Purpose:
        assert purpose.label and purpose.basis in registry.LegalBasis
        # A purpose with a switch of its own, or one GPC turns off, can be switched off.
        assert purpose.switchable or not (purpose.own_switch or purpose.gpc), purpose
    assert set(ConsentPurpose.values) == {p.value for p in registry.OWN_SWITCH_PURPOSES}
    assert dict(ConsentPurpose.choices) == {p.value: p.label for p in registry.OWN_SWITCH_PURPOSES}
    assert set(gpc.PURPOSES) == {p.value for p in registry.GPC_PURPOSES}
    assert list(registry.PURPOSES) == [p.value for p in registry.Purpose]


def test_every_kind_speaks_the_vocabulary():
    from accounts.models import Sensitivity

    for kind in registry.all_kinds():
        assert all(isinstance(p, registry.Purpose) for p in kind.purposes), kind.name
        assert all(isinstance(t, registry.Touchpoint) for t in kind.touchpoints), kind.name
        assert set(kind.retention) <= set(Sensitivity.values), kind.name
        fields = {f.name for f in kind.get_model()._meta.concrete_fields}
        assert kind.secret_fields <= fields, kind.name
        if kind.kept_as_proof:  # proof stays: the customer cannot delete it alone either
            assert kind.not_deletable_alone, kind.name


def test_registering_unknown_touchpoints_is_refused():
    import pytest

    with pytest.raises(ValueError, match="unknown touchpoints"):
        registry.DataKind(
            name="bogus",
            label="Bogus",
            model="accounts.Customer",
            owner="",
            source=registry.Source.PROVIDED,
            purposes=("service",),
            touchpoints=("carrier-pigeon",),
        )
