"""Citations of a proposal's version in CSL-JSON, BibTeX and RIS.

Each citation lists the record first (a dataset entry: the tracker's
record of the proposal at that version, at its permanent address), then
each source its quotes come from, so a reader can go to the texts.

- CSL-JSON is the Citation Style Language's JSON data format (schema
  ``csl-data.json``), read by Zotero, Pandoc and citeproc: plain JSON, no
  library needed to write it.
- BibTeX is written with ``bibtexparser`` 2 (its ``Library``/``Entry``
  model and writer); text fields are LaTeX-encoded with ``pylatexenc``
  (bibtexparser's own dependency: ``&`` becomes ``\\&``, an em dash
  ``\\textemdash``; characters without a LaTeX form, e.g. Chinese, stay as
  UTF-8, which BibLaTeX reads), URLs are left as they are.
- RIS is written with ``rispy``, without its non-standard ``1.`` line
  before each record (``RisWriter.set_header``, its documented hook).
"""

from __future__ import annotations

import json
import re

import bibtexparser
import rispy
from bibtexparser.model import Entry, Field
from pylatexenc.latexencode import unicode_to_latex

PUBLISHER = "Policy-proposal tracker"


def record_item(proposal, permalink: str, date, accessed) -> dict:
    """The CSL item for the record itself (``date`` is the version's time)."""
    return {
        "id": f"{proposal.slug}-v{proposal.version}",
        "type": "dataset",
        "title": proposal.title,
        "author": [{"literal": PUBLISHER}],
        "publisher": PUBLISHER,
        "version": str(proposal.version),
        "issued": {"date-parts": [[date.year, date.month, date.day]]},
        "accessed": {"date-parts": [[accessed.year, accessed.month, accessed.day]]},
        "URL": permalink,
        "abstract": proposal.summary or None,
        "note": f"Status: {proposal.status}.",
    }


def source_item(source) -> dict:
    item = {
        "id": f"source-{source.slug}",
        "type": "article",
        "title": source.title,
        "container-title": source.outlet or None,
        "URL": source.url or None,
        "language": source.language or None,
    }
    if source.authors:
        item["author"] = [{"literal": source.authors}]
    if source.published_on:
        parts = [source.published_on.year]
        if source.published_precision in ("month", "day"):
            parts.append(source.published_on.month)
        if source.published_precision == "day":
            parts.append(source.published_on.day)
        item["issued"] = {"date-parts": [parts]}
    return item


def _clean(item: dict) -> dict:
    return {key: value for key, value in item.items() if value not in (None, "")}


def csl_json(items: list[dict]) -> str:
    return json.dumps([_clean(item) for item in items], ensure_ascii=False, indent=2) + "\n"


def _key(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_:-]+", "-", text)


def _tex(text: str) -> str:
    return unicode_to_latex(text, unknown_char_policy="keep", unknown_char_warning=False)


def bibtex(items: list[dict]) -> str:
    library = bibtexparser.Library()
    for item in items:
        item = _clean(item)
        entry_type = "misc"
        # Double braces keep a title's capitals and make an institution one
        # "last name" (BibTeX would split "Policy-proposal tracker").
        fields = [Field("title", "{" + _tex(item["title"]) + "}")]
        if "author" in item:
            fields.append(Field("author", "{" + " and ".join(_tex(a["literal"]) for a in item["author"]) + "}"))
        if "issued" in item:
            parts = item["issued"]["date-parts"][0]
            fields.append(Field("year", str(parts[0])))
            if len(parts) > 1:
                fields.append(Field("month", str(parts[1])))
        for csl, bib in (("publisher", "publisher"), ("container-title", "howpublished"), ("version", "version")):
            if csl in item:
                fields.append(Field(bib, _tex(item[csl])))
        if "URL" in item:
            fields.append(Field("url", item["URL"]))
        if "accessed" in item:
            y, m, d = item["accessed"]["date-parts"][0]
            fields.append(Field("urldate", f"{y:04d}-{m:02d}-{d:02d}"))
        if "note" in item:
            fields.append(Field("note", _tex(item["note"])))
        library.add(Entry(entry_type, _key(item["id"]), fields))
    return bibtexparser.write_string(library)


#: Line breaks RIS readers split records on, and other control characters:
#: each run becomes one space, so a value stays on its tag's line.
_RIS_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def _one_line(value):
    """``value`` (a string, or a list of them) with each run of line breaks
    and control characters replaced by one space. RIS is one
    ``TAG  - value`` per line: a newline in a title would otherwise start a
    forged field or record (``ER  -``, ``TY  -``)."""
    if isinstance(value, list):
        return [_one_line(v) for v in value]
    return _RIS_BREAKS.sub(" ", value) if isinstance(value, str) else value


class _RisWriter(rispy.RisWriter):
    def set_header(self, count):
        return ""


def ris(items: list[dict]) -> str:
    references = []
    for item in items:
        item = _clean(item)
        ref = {"type_of_reference": "DATA" if item["type"] == "dataset" else "GEN", "title": item["title"]}
        if "author" in item:
            ref["authors"] = [a["literal"] for a in item["author"]]
        if "issued" in item:
            parts = item["issued"]["date-parts"][0]
            ref["year"] = str(parts[0])
            ref["date"] = "/".join(f"{p:02d}" if i else str(p) for i, p in enumerate(parts))
        if "URL" in item:
            ref["urls"] = [item["URL"]]
        if "publisher" in item:
            ref["publisher"] = item["publisher"]
        if "container-title" in item:
            ref["secondary_title"] = item["container-title"]
        if "version" in item:
            ref["edition"] = item["version"]
        if "accessed" in item:
            y, m, d = item["accessed"]["date-parts"][0]
            ref["access_date"] = f"{y:04d}/{m:02d}/{d:02d}"
        if "note" in item:
            ref["notes"] = [item["note"]]
        references.append({key: _one_line(value) for key, value in ref.items()})
    return rispy.dumps(references, implementation=_RisWriter)
