"""Quote offsets and UTF-16 (issue item 11). ``start``/``end`` count
Unicode code points; JavaScript strings count UTF-16 code units, in which a
character above U+FFFF (most emoji) takes two. Every evidence representation
also carries ``start_utf16``/``end_utf16``, so a JavaScript client slices the
source text correctly without converting anything."""

import pytest
import yaml
from django.core.management import call_command

from proposals import services
from proposals.models import utf16_length
from tests.factories import ProposalFactory, SourceFactory

API = "/api/v1"

QUOTE = "a joint centre"


def utf16_slice(text: str, start: int, end: int) -> str:
    """What JavaScript's ``text.slice(start, end)`` returns."""
    units = text.encode("utf-16-le")
    return units[2 * start : 2 * end].decode("utf-16-le")


def test_utf16_length_counts_astral_characters_twice():
    assert utf16_length("abc") == 3
    assert utf16_length("é中") == 2  # in the Basic Multilingual Plane: one unit each
    assert utf16_length("🙂") == 2
    assert utf16_length("👩‍👩‍👧") == 8  # three emoji (two units each) and two joiners


def test_an_emoji_before_the_quote_shifts_only_the_utf16_offsets(api, db):
    source = SourceFactory(text=f"Leaders 🙂 agreed on {QUOTE}.")
    proposal = ProposalFactory()
    services.evidence_attach(proposal=proposal, source=source, quote=QUOTE)
    [row] = api.get(f"{API}/proposals/{proposal.slug}/").json()["evidence"]
    assert source.text[row["start"] : row["end"]] == QUOTE
    assert (row["start_utf16"], row["end_utf16"]) == (row["start"] + 1, row["end"] + 1)
    assert utf16_slice(source.text, row["start_utf16"], row["end_utf16"]) == QUOTE


TEXTS = [
    f"No emoji at all, then {QUOTE}.",
    f"🙂 at the start, then {QUOTE}.",
    f"Many 🙂🙂🙂 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 before {QUOTE} and 🙂 after.",
    f"Joiners 👩‍👩‍👧 and accents é, then {QUOTE}!",
]


CASES = [*((text, QUOTE) for text in TEXTS), (TEXTS[2], "🙂 after"), (TEXTS[3], "👩‍👩‍👧")]


@pytest.mark.parametrize(("text", "quote"), CASES)
def test_every_evidence_representation_slices_right_in_utf16(api, editor_api, db, text, quote):
    source = SourceFactory(text=text)
    proposal = ProposalFactory()
    created = editor_api.post(
        f"{API}/proposals/{proposal.slug}/evidence/", {"source": {"id": source.pk}, "quote": quote}, format="json"
    )
    assert created.status_code == 201, created.content
    rows = [
        created.json(),
        *api.get(f"{API}/proposals/{proposal.slug}/evidence/").json(),
        *api.get(f"{API}/proposals/{proposal.slug}/").json()["evidence"],
    ]
    for row in rows:
        assert text[row["start"] : row["end"]] == quote
        assert utf16_slice(text, row["start_utf16"], row["end_utf16"]) == quote


def test_utf16_offsets_are_read_only(editor_api, proposal, source):
    response = editor_api.post(
        f"{API}/proposals/{proposal.slug}/evidence/",
        {"source": {"id": source.pk}, "quote": "The treaty was discussed again.", "start": 141, "start_utf16": 5},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["start_utf16"] == 141


def test_the_schema_states_the_offset_unit(db, tmp_path):
    path = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(path))
    evidence = yaml.safe_load(path.read_text(encoding="utf-8"))["components"]["schemas"]["Evidence"]
    for name in ("start", "end"):
        assert "code points" in evidence["properties"][name]["description"], name
    for name in ("start_utf16", "end_utf16"):
        assert "UTF-16" in evidence["properties"][name]["description"], name
        assert evidence["properties"][name]["readOnly"] is True
