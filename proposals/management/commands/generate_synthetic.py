"""``manage.py generate_synthetic --proposals N [--seed S] [--batch-size B]``:
bulk-load realistic synthetic proposals for load tests. The work is done in
``bench.synthetic`` (benchmark data, outside the domain package); see its docstring for what is made and how."""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from bench import synthetic
from proposals.representations import stored


class Command(BaseCommand):
    help = (
        "Add N synthetic proposals (with sources, actors, venues, topics, quotes, proponents and status "
        "timelines) on top of the data already in the database. Deterministic for a given seed; no history rows."
    )

    def add_arguments(self, parser):
        parser.add_argument("--proposals", type=int, required=True, help="How many proposals to create.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1); slugs are syn-<seed>-<n>.")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=synthetic.DEFAULT_BATCH_SIZE,
            help=f"Proposals per transaction (default {synthetic.DEFAULT_BATCH_SIZE}); bounds memory.",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="Database alias (default 'default').")

    def handle(self, *args, proposals, seed, batch_size, no_progress, database, **options):
        if proposals < 1:
            raise CommandError("--proposals must be at least 1.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if seed < 0:
            raise CommandError("--seed must be a non-negative integer (it is part of the slugs).")
        try:
            summary = synthetic.generate(
                proposals=proposals,
                seed=seed,
                batch_size=batch_size,
                progress=not no_progress and options["verbosity"] > 0,
                stream=sys.stderr,
                connection=connections[database],
            )
        except synthetic.SyntheticDataExists as exc:
            raise CommandError(str(exc)) from exc
        # The rows were written with COPY, around the write batch: move the
        # change sequence so no list ETag issued before them still matches
        # (their stored rows are rendered on read until rebuild_representations).
        with transaction.atomic(using=database):
            stored.bump_sequence(using=database)
        if options["verbosity"] > 0:
            self.stdout.write(self.style.SUCCESS(str(summary)))
