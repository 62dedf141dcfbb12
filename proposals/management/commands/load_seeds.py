"""``manage.py load_seeds``: load the curated seed corpus (see seeds/README.md)."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from proposals.importers import SeedError, load_seeds


class Command(BaseCommand):
    help = (
        "Load the curated seed corpus (seeds/data/corpus.yaml and the texts in seeds/sources/). "
        "Idempotent: records are matched by slug, and a re-run writes nothing when nothing changed. "
        "All or nothing: bad data stops the load with the file, record and field at fault, and the "
        "database is left untouched. Records that staff changed after seeding are kept and reported, "
        "unless --overwrite-staff-edits is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, help="Data file to load (default: seeds/data/corpus.yaml).")
        parser.add_argument("--sources-dir", type=Path, help="Folder of source texts (default: seeds/sources/).")
        parser.add_argument(
            "--overwrite-staff-edits",
            action="store_true",
            help="Also overwrite records that staff changed in the admin or API after seeding. "
            "Without it they are skipped and listed.",
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        self.stdout.write("Loading seed corpus: checking every record and quote, then writing...")
        try:
            report = load_seeds(
                options["file"],
                sources_dir=options["sources_dir"],
                overwrite_staff_edits=options["overwrite_staff_edits"],
            )
        except SeedError as exc:
            raise CommandError(f"Seed data rejected, nothing was written.\n{exc}") from exc
        self.stdout.write(report.table())
        for line in report.skipped:
            self.stdout.write(self.style.WARNING(f"skipped: {line}"))
        verdict = f"{report.changed} change(s)" if report.changed else "nothing to change"
        self.stdout.write(self.style.SUCCESS(f"Seed corpus loaded: {verdict} in {time.monotonic() - started:.1f}s."))
