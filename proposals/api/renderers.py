"""CSV export of proposal lists, for analysts who live in spreadsheets."""

import csv
import io

from rest_framework.renderers import BaseRenderer, JSONRenderer

#: The export's columns, in order. Stable: add new ones at the end only.
PROPOSAL_CSV_COLUMNS = [
    "slug",
    "title",
    "status",
    "status_label",
    "venue_id",
    "venue",
    "primary_proponent",
    "proponents",
    "topics",
    "proposed_on",
    "proposed_precision",
    "updated_at",
    "url",
]


class CSVRenderer(BaseRenderer):
    """Selected by ``?format=csv`` or ``Accept: text/csv``. The proposal
    list streams its rows itself; this renders any list of flat dicts."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and response.exception:
            # An error (bad filter, 401, 429...) is problem JSON, which errors.py
            # already promised in the Content-Type; writing it as CSV gave a
            # body of just the column header under an application/problem+json
            # header, so clients could not read the reason.
            return JSONRenderer().render(data, "application/json", renderer_context)
        rows = data.get("results", []) if isinstance(data, dict) else (data or [])
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=PROPOSAL_CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue().encode(self.charset)


class Echo:
    """A file-like object whose write() hands the line back, for streaming."""

    def write(self, value):
        return value


def proposal_csv_rows(proposals, url_prefix: str):
    """Yield the CSV header and one line per proposal (prefetched)."""
    writer = csv.writer(Echo())
    yield writer.writerow(PROPOSAL_CSV_COLUMNS)
    for p in proposals:
        links = p.list_proponents()
        primary = next((link for link in links if link["primary"]), None)
        yield writer.writerow(
            [
                p.slug,
                p.title,
                p.status,
                p.get_status_display(),
                p.venue_id or "",
                p.venue.name if p.venue else "",
                primary["name"] if primary else "",
                "; ".join(f"{link['name']} ({link['role']})" for link in links),
                "; ".join(topic["slug"] for topic in p.list_topics()),
                p.proposed_on.isoformat() if p.proposed_on else "",
                p.proposed_precision,
                p.updated_at.isoformat(),
                f"{url_prefix}{p.slug}/",
            ]
        )
