"""Load MovieLens 100k (from the installed recbole package) as a demo brand's rating events."""

import importlib.util
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recommendations import services


def ml100k_dir() -> Path:
    spec = importlib.util.find_spec("recbole")
    if spec is None or not spec.submodule_search_locations:
        raise CommandError("Needs the recbole package: pip install --no-deps recbole==1.2.1")
    path = Path(spec.submodule_search_locations[0]) / "dataset_example" / "ml-100k"
    if not (path / "ml-100k.inter").is_file():
        raise CommandError(f"{path}/ml-100k.inter is missing.")
    return path


class Command(BaseCommand):
    help = "Load MovieLens 100k into the ledger as rating events of a demo brand (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--brand", default="movielens-demo", help="brand slug")
        parser.add_argument("--train", action="store_true", help="train the brand afterwards")

    def handle(self, *args, **options):
        result = services.movielens_load(directory=ml100k_dir(), brand_slug=options["brand"])
        self.stdout.write(
            f"Brand {result['brand_id']}: {result['customers']} customers, "
            f"{result['events_added']} rating events added."
        )
        if options["train"]:
            run = services.train_brand(brand_id=result["brand_id"], reason="load_movielens")
            if run is None:  # never: a run of our own is claimed at once; for the type checker
                raise CommandError("The training run was claimed elsewhere.")
            self.stdout.write(f"Trained run {run.pk}: {run.n_ratings} ratings.")
