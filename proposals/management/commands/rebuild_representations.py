"""``manage.py rebuild_representations [--check]``: render every proposal's
stored list row afresh (proposals/representations/stored.py) and report the
drift found: rows missing, stale (stamped with another ``updated_at``) or
different from what the serializer renders now. Stored details (rendered
lazily, on a proposal's first read after a change) are compared where
present and, without ``--check``, cleared: each is rendered again on its
next read, in the current shape."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from proposals.models import Proposal
from proposals.representations import stored

#: Added to the change sequence by a rebuild: past any number a database
#: restored from a backup may have issued since (see docs/PERFORMANCE.md).
SEQUENCE_JUMP = 2**32


class Command(BaseCommand):
    help = (
        "Render every proposal's stored list row with the serializer and store it; with --check, only report "
        "rows that are missing, stale or different (exit status 1 when any is). Run it after a deploy that "
        "changes the list's shape, after a bulk load that bypassed the services, and after restoring a backup."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Report drift; write nothing.")
        parser.add_argument("--chunk", type=int, default=stored.CHUNK, help="Proposals per transaction (1000).")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, check=False, chunk=stored.CHUNK, no_progress=False, **options):
        started = time.monotonic()
        ids = list(Proposal.objects.order_by("pk").values_list("pk", flat=True))
        missing, stale, different, details, samples = 0, 0, 0, 0, []
        bar = tqdm(total=len(ids), unit="proposal", unit_scale=True, disable=no_progress, file=self.stderr)
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            with transaction.atomic():
                rows = list(Proposal.objects.with_list_related().filter(pk__in=part).order_by("pk"))
                have = {
                    pk: (text, at)
                    for pk, text, at in Proposal.objects.filter(pk__in=part)
                    .values_list("pk", "list_json", "list_json_at")
                    .order_by()
                }
                texts = stored.render_rows(rows)
                for row, text in zip(rows, texts, strict=True):
                    old_text, stamp = have[row.pk]
                    if old_text is None or stamp is None:
                        missing += 1
                    elif stamp != row.updated_at:
                        stale += 1
                    elif old_text != text:
                        different += 1
                    else:
                        continue
                    if len(samples) < 10:
                        samples.append(row.slug)
                details += self._details_different(part)
                if not check:
                    stored._store(rows, texts, "default")
                    Proposal.objects.filter(pk__in=part).exclude(detail_json=None).update(
                        detail_json=None, detail_json_at=None
                    )
            bar.update(len(part))
        bar.close()
        if not check:
            with transaction.atomic():
                stored.bump_sequence(SEQUENCE_JUMP)
        drift = missing + stale + different + details
        verb = "Checked" if check else "Rebuilt"
        self.stdout.write(
            f"{verb} {len(ids)} proposals in {time.monotonic() - started:.1f} s: {missing} missing, {stale} stale, "
            + f"{different} different from the serializer's output"
            + (f"; e.g. {', '.join(samples)}" if samples else "")
            + f"; {details} stored details different"
            + ("" if check else " (all stored details cleared: each is rendered again on its next read)")
        )
        if check and drift:
            raise CommandError(
                f"{missing + stale + different} stored list rows drifted, {details} stored details drifted; "
                "run rebuild_representations without --check."
            )

    @staticmethod
    def _details_different(pks) -> int:
        """How many of these proposals have a stored detail, stamped current,
        that differs from what the serializer renders now."""
        current = {
            pk: text
            for pk, text, at, updated in Proposal.objects.filter(pk__in=pks)
            .exclude(detail_json=None)
            .values_list("pk", "detail_json", "detail_json_at", "updated_at")
            if at == updated
        }
        if not current:
            return 0
        return sum(
            1
            for proposal in Proposal.objects.with_related().filter(pk__in=current)
            if stored.render_detail(proposal) != current[proposal.pk]
        )
