"""The published statement is rendered from configuration, public, no login."""

from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils.html import escape

from transparency import registry


def test_it_is_public_and_lists_every_kind_with_source_purposes_and_retention(client, db):
    page = client.get(reverse("transparency_statement")).content.decode()

    for kind in registry.all_kinds():
        assert escape(kind.label) in page
    assert "Kept 1 year" in page  # events at retail brands
    assert "Kept 90 days" in page  # events at banking brands
    assert "Kept 10 years" in page  # orders at banking brands
    assert "Kept (Banking brands)" in page


def test_it_names_the_staff_groups_with_access_to_customer_data(client, db):
    support = Group.objects.create(name="Support desk")
    support.permissions.add(Permission.objects.get(codename="view_address"))
    Group.objects.create(name="Catalog editors").permissions.add(
        Permission.objects.get(codename="change_product")
    )

    page = client.get(reverse("transparency_statement")).content.decode()

    assert "Support desk" in page and "Can view address" in page
    assert "Catalog editors" not in page  # products are not customer data
