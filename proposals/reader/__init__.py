"""The source reader: a source's text with marks on it (the quotes that
point into it, and later other kinds, such as suggestions), for the admin.

Offsets everywhere count Unicode code points, as ``Evidence`` does
(``text[start:end]``); the reader's script converts the browser's UTF-16
selection offsets to code points before it posts them back, and the server
checks them with ``Evidence.clean`` (``locate_quote``) like every surface.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from anyascii import anyascii
from django.urls import reverse
from django.utils.html import escape
from django.utils.text import slugify

from ..models import Evidence, Proposal, Source

#: A mark: ``{"start": int, "end": int, "kind": str, "label": str, "url": str, "id": str}``;
#: ``start``/``end`` in code points, ``end`` exclusive, ``id`` unique on the page
#: (the anchor the proposal page links to, e.g. ``q12`` for quote 12).
Mark = dict

#: Functions that give a source's marks of one kind. Another kind (e.g.
#: suggestions from the intake) is added by appending its function here.
MARK_PROVIDERS: list[Callable[[Source], list[Mark]]] = []


def quote_marks(source: Source) -> list[Mark]:
    """One mark per evidence quote pointing into ``source``, linked to its
    proposal's admin page (one query)."""
    rows = (
        Evidence.objects.filter(source_id=source.pk)
        .order_by("start", "end", "id")
        .values_list("id", "start", "end", "proposal_id", "proposal__title")
    )
    return [
        {
            "start": start,
            "end": end,
            "kind": "quote",
            "label": title,
            "url": reverse("admin:proposals_proposal_change", args=[proposal_id]),
            "id": f"q{pk}",
        }
        for pk, start, end, proposal_id, title in rows
    ]


MARK_PROVIDERS.append(quote_marks)


def slug_from_title(title: str, *, model=Proposal, max_length: int = 120) -> str:
    """A slug that passes ``lowercase_slug`` and is free in ``model``, made
    from ``title`` in any script: transliterated to ASCII (anyascii, so
    "反极端主义公约" gives "fanjiduanzhuyigongyue"), underscores as hyphens,
    cut at ``max_length`` on a word boundary; "proposal-<n>" when nothing is
    left; "-2", "-3"... appended while the slug is taken (one query)."""
    base = slugify(anyascii(title).replace("_", " "))
    base = re.sub(r"-{2,}", "-", base).strip("-")[: max_length - 8].strip("-")
    if not base:
        base = f"{model._meta.model_name}-{model._base_manager.count() + 1}"
    taken = set(model._base_manager.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def reader_marks(source: Source) -> list[Mark]:
    """Every mark on ``source`` from every provider, by start then end."""
    marks = [mark for provider in MARK_PROVIDERS for mark in provider(source)]
    marks.sort(key=lambda m: (m["start"], m["end"]))
    return marks


def segments(text: str, marks: list[Mark]) -> list[tuple[int, int, list[int]]]:
    """Split ``text`` at every mark boundary: ``[(start, end, [mark index,
    ...]), ...]`` covering the whole text in order, each piece listing the
    marks that cover all of it (outermost, i.e. longest, first). Marks
    outside the text are clipped. O((n + m) log m) for m marks."""
    length = len(text)
    bounds = {0, length}
    for mark in marks:
        bounds.add(max(0, min(mark["start"], length)))
        bounds.add(max(0, min(mark["end"], length)))
    points = sorted(bounds)
    # Which marks start and end at each boundary; an active set in between.
    starts: dict[int, list[int]] = {}
    ends: dict[int, list[int]] = {}
    for index, mark in enumerate(marks):
        start, end = max(0, mark["start"]), min(mark["end"], length)
        if start < end:
            starts.setdefault(start, []).append(index)
            ends.setdefault(end, []).append(index)
    active: set[int] = set()
    out = []
    for a, b in zip(points, points[1:], strict=False):
        active.difference_update(ends.get(a, ()))
        active.update(starts.get(a, ()))
        covering = sorted(active, key=lambda i: (marks[i]["start"] - marks[i]["end"], marks[i]["start"]))
        out.append((a, b, covering))
    return out


def _text_html(piece: str) -> str:
    # A carriage return is escaped as a character reference: the HTML parser
    # turns a literal CR LF into LF, which would shift every later offset.
    return escape(piece).replace("\r", "&#13;")


def render_text(text: str, marks: list[Mark]) -> str:
    """The reader's text as HTML: one ``<span data-start>`` per segment (the
    script maps a selection back to code points through it), marked
    segments as ``<mark data-href>`` to the innermost mark's page (not
    links: a selection can start inside a highlight; a click without a
    selection opens the page, see reader.js), with every covering
    mark named in the title and ``data-marks``, and the overlap depth as a
    class. Whitespace is kept (the page shows it with ``pre-wrap``)."""
    parts = []
    for start, end, covering in segments(text, marks):
        piece = _text_html(text[start:end])
        if not covering:
            parts.append(f'<span class="seg" data-start="{start}">{piece}</span>')
            continue
        inner = marks[covering[-1]]
        anchors = "".join(
            f'<span class="anchor" id="{escape(marks[i]["id"])}"></span>'
            for i in covering
            if marks[i]["start"] == start
        )
        title = escape(" | ".join(marks[i]["label"] for i in covering))
        ids = escape(" ".join(marks[i]["id"] for i in covering))
        kinds = " ".join(sorted({f"kind-{marks[i]['kind']}" for i in covering}))
        depth = min(len(covering), 4)
        parts.append(
            f'{anchors}<mark class="seg mark depth-{depth} {kinds}" data-start="{start}" data-marks="{ids}" '
            f'data-href="{escape(inner["url"])}" title="{title}">{piece}</mark>'
        )
    return "".join(parts)
