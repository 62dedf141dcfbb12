"""``manage.py suggest SOURCE_SLUG``: run the suggestion step on a source."""

from collections import Counter

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from proposals.models import Source
from proposals.suggestions.services import suggest_for_source


class Command(BaseCommand):
    help = (
        "Suggest records (new proposals, mentions, status events, participation) from a source's text, as "
        "POST /api/v1/sources/{slug}/suggest/ does. A re-run adds nothing twice and never brings back a "
        "rejected suggestion."
    )

    def add_arguments(self, parser):
        parser.add_argument("source_slug", help="Slug of the source to read.")
        parser.add_argument("--no-progress", action="store_true", help="Do not show the progress bar.")

    def handle(self, *args, source_slug, no_progress=False, **options):
        source = Source.objects.filter(slug=source_slug).first()
        if source is None:
            raise CommandError(f"No source with slug {source_slug!r}.")
        bar = tqdm(total=0, unit="sentence", disable=no_progress, file=self.stderr._out, desc="Reading")

        def progress(done, total):
            bar.total = total
            bar.n = done
            bar.refresh()

        try:
            created = suggest_for_source(source, progress=progress)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        finally:
            bar.close()
        for suggestion in created:
            target = suggestion.proposal.slug if suggestion.proposal_id else suggestion.title
            detail = " ".join(x for x in (suggestion.status, suggestion.action, suggestion.party_name) if x)
            self.stdout.write(
                f"  {suggestion.kind:<13} {suggestion.start:>6}-{suggestion.end:<6} {target[:60]} {detail}".rstrip()
            )
        counts = Counter(s.kind for s in created)
        summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "nothing new"
        self.stdout.write(self.style.SUCCESS(f"{len(created)} suggestion(s) created for {source.slug}: {summary}."))
