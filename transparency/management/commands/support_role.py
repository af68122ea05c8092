"""Create or refresh the "Support" staff group: view permissions on every registered kind
of customer data, never `accounts.view_unmasked` (personal fields stay masked; a reveal
needs a typed reason the customer sees)."""

from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand

from transparency import registry

GROUP = "Support"


def support_group() -> Group:
    group, _ = Group.objects.get_or_create(name=GROUP)
    views = []
    for kind in registry.all_kinds():
        model = kind.get_model()
        views.append((model._meta.app_label, f"view_{model._meta.model_name}"))
    perms = [
        p
        for p in Permission.objects.select_related("content_type")
        if (p.content_type.app_label, p.codename) in set(views)
    ]
    group.permissions.set(perms)
    return group


class Command(BaseCommand):
    help = 'Create or refresh the "Support" group (view only, personal fields masked).'

    def handle(self, *args, **options):
        group = support_group()
        self.stdout.write(
            self.style.SUCCESS(f"{GROUP}: {group.permissions.count()} view permissions.")
        )
