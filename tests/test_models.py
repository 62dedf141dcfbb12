"""Model rules: quotes are verified and located, constraints hold."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from proposals.models import Actor, ActorKind, Evidence, Source, locate_quote

TEXT = "Alpha beta gamma. Beta again. Alpha beta gamma."


def test_locate_quote_finds_missing_offsets():
    assert locate_quote(TEXT, "Beta again.") == (18, 29)


def test_locate_quote_refuses_a_quote_not_in_the_text():
    with pytest.raises(ValidationError) as exc:
        locate_quote(TEXT, "Delta")
    assert "does not occur verbatim" in exc.value.message_dict["quote"][0]


def test_locate_quote_refuses_an_ambiguous_quote_and_lists_offsets():
    with pytest.raises(ValidationError) as exc:
        locate_quote(TEXT, "Alpha beta gamma.")
    message = exc.value.message_dict["quote"][0]
    assert "occurs 2 times" in message and "0, 30" in message


def test_locate_quote_start_picks_one_occurrence():
    assert locate_quote(TEXT, "Alpha beta gamma.", start=30) == (30, 47)


def test_locate_quote_refuses_offsets_that_do_not_hold_the_quote():
    with pytest.raises(ValidationError) as exc:
        locate_quote(TEXT, "Beta again.", 0, 11)
    assert "not the quote" in exc.value.message_dict["start"][0]


def test_evidence_clean_computes_offsets(proposal, source):
    evidence = Evidence(proposal=proposal, source=source, quote="A researcher said")
    evidence.full_clean()
    assert source.text[evidence.start : evidence.end] == "A researcher said"


def test_evidence_not_in_source_is_refused(proposal, source):
    evidence = Evidence(proposal=proposal, source=source, quote="Nobody said this.")
    with pytest.raises(ValidationError) as exc:
        evidence.full_clean()
    assert set(exc.value.message_dict) == {"quote"}


def test_database_refuses_offsets_that_do_not_fit_the_quote(proposal, source):
    with pytest.raises(IntegrityError), transaction.atomic():
        Evidence.objects.create(proposal=proposal, source=source, quote="At the", start=0, end=10)


def test_source_sha256_is_derived_from_the_text(source):
    assert source.sha256 == Source.digest(source.text)
    assert len(source.sha256) == 64


def test_editing_a_source_text_that_breaks_a_quote_is_refused(proposal, source):
    source.text = "Rewritten. " + source.text
    with pytest.raises(ValidationError) as exc:
        source.full_clean()
    assert "would break 1 evidence quote" in exc.value.message_dict["text"][0]


def test_editing_a_source_text_after_all_quotes_is_allowed(proposal, source):
    source.text = source.text + " An appended sentence."
    source.full_clean()
    source.save()
    source.refresh_from_db()
    assert source.text.endswith("appended sentence.")


def test_a_state_needs_a_country_code(db):
    with pytest.raises(ValidationError) as exc:
        Actor(slug="china", name="China", kind=ActorKind.STATE).full_clean()
    assert "country_code" in exc.value.message_dict


def test_unnamed_actors_are_first_class(db):
    scholar = Actor(slug="one-chinese-scholar", name="one Chinese scholar", named=False, kind=ActorKind.PERSON)
    scholar.full_clean()
    scholar.save()
    assert str(scholar) == "one Chinese scholar"


def test_every_save_bumps_the_version(actor):
    before = actor.version
    actor.description = "Premier of the State Council"
    actor.save()
    assert actor.version == before + 1


def test_a_status_event_cannot_be_dated_in_the_future(proposal):
    import datetime as dt

    from proposals.models import StatusEvent

    event = StatusEvent(proposal=proposal, status="adopted", occurred_on=dt.date.today() + dt.timedelta(days=30))
    with pytest.raises(ValidationError) as exc:
        event.full_clean()
    assert "future" in exc.value.message_dict["occurred_on"][0]
