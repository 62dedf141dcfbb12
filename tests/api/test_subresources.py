"""A proposal's sub-resources: its status timeline, its evidence quotes and
its change history."""

import datetime as dt

from proposals.models import Evidence, Proposal, StatusEvent
from tests.conftest import SAMPLE_TEXT
from tests.factories import EvidenceFactory, ProposalFactory, SourceFactory, StatusEventFactory

from .helpers import assert_problem, error_fields, write

EVENTS = "/api/v1/proposals/anti-extremism-treaty/events/"
EVIDENCE = "/api/v1/proposals/anti-extremism-treaty/evidence/"


# --------------------------------------------------------------------------
# Status events
# --------------------------------------------------------------------------


def test_events_list_the_timeline_oldest_first(api, proposal):
    StatusEventFactory(proposal=proposal, status="adopted", occurred_on=dt.date(2017, 6, 9), note="Signed.")
    StatusEventFactory(proposal=proposal, status="under_discussion", occurred_on=dt.date(2016, 1, 1))

    response = api.get(EVENTS)

    assert response.status_code == 200
    assert [(e["status"], e["occurred_on"]) for e in response.json()] == [
        ("proposed", "2015-12-15"),
        ("under_discussion", "2016-01-01"),
        ("adopted", "2017-06-09"),
    ]
    adopted = response.json()[2]
    assert set(adopted) == {
        "id",
        "status",
        "status_label",
        "occurred_on",
        "precision",
        "note",
        "evidence",
        "recorded_by_role",
        "recorded_at",
    }
    assert adopted["status_label"] == "Adopted / signed"
    assert adopted["note"] == "Signed."


def test_adding_the_latest_event_moves_the_proposal_status(editor_api, proposal):
    version_before = Proposal.objects.get(pk=proposal.pk).version

    response = editor_api.post(
        EVENTS, {"status": "adopted", "occurred_on": "2017-06-09", "note": "Signed at Astana."}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "adopted"
    assert body["occurred_on"] == "2017-06-09"
    assert body["precision"] == "day"
    assert body["note"] == "Signed at Astana."
    assert body["recorded_by_role"] == "editor"
    stored = Proposal.objects.get(pk=proposal.pk)
    assert stored.status == "adopted"
    assert stored.version == version_before + 1
    detail = editor_api.get("/api/v1/proposals/anti-extremism-treaty/").json()
    assert detail["status"] == "adopted"
    assert detail["status_label"] == "Adopted / signed"
    assert [e["status"] for e in detail["events"]] == ["proposed", "adopted"]


def test_an_older_dated_event_does_not_change_the_current_status(editor_api, proposal):
    editor_api.post(EVENTS, {"status": "adopted", "occurred_on": "2017-06-09"}, format="json")

    response = editor_api.post(EVENTS, {"status": "stalled", "occurred_on": "2016-02-01"}, format="json")

    assert response.status_code == 201, response.content
    assert Proposal.objects.get(pk=proposal.pk).status == "adopted"
    assert [e["status"] for e in editor_api.get(EVENTS).json()] == ["proposed", "stalled", "adopted"]


def test_on_the_same_date_the_event_recorded_last_wins(editor_api, proposal):
    editor_api.post(EVENTS, {"status": "adopted", "occurred_on": "2017-06-09"}, format="json")
    editor_api.post(EVENTS, {"status": "in_force", "occurred_on": "2017-06-09"}, format="json")
    assert Proposal.objects.get(pk=proposal.pk).status == "in_force"


def test_event_may_cite_the_proposals_own_evidence(editor_api, proposal):
    evidence = proposal.evidence.get()
    response = editor_api.post(
        EVENTS, {"status": "under_discussion", "occurred_on": "2016-01-01", "evidence": evidence.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["evidence"] == evidence.pk
    assert StatusEvent.objects.get(pk=response.json()["id"]).evidence == evidence


def test_event_citing_another_proposals_evidence_is_refused(editor_api, proposal):
    foreign = EvidenceFactory()
    response = editor_api.post(
        EVENTS, {"status": "adopted", "occurred_on": "2020-01-01", "evidence": foreign.pk}, format="json"
    )
    assert_problem(response, 400, "evidence")
    assert Proposal.objects.get(pk=proposal.pk).status == "proposed"
    assert proposal.events.count() == 1


def test_event_with_unknown_status_or_bad_date_is_refused_naming_each(editor_api, proposal):
    response = editor_api.post(EVENTS, {"status": "finished", "occurred_on": "2020-02-30"}, format="json")
    assert_problem(response, 400)
    assert sorted(error_fields(response)) == ["occurred_on", "status"]


def test_event_without_a_date_is_refused(editor_api, proposal):
    assert_problem(editor_api.post(EVENTS, {"status": "adopted"}, format="json"), 400, "occurred_on")


def test_event_for_an_unknown_proposal_is_404(editor_api, db):
    url = "/api/v1/proposals/no-such-proposal/events/"
    assert_problem(editor_api.get(url), 404)
    assert_problem(editor_api.post(url, {"status": "adopted", "occurred_on": "2020-01-01"}, format="json"), 404)


def test_patching_a_proposal_cannot_set_its_status(editor_api, proposal):
    response = write(editor_api, "patch", "/api/v1/proposals/anti-extremism-treaty/", {"status": "in_force"})
    # status is a read-only field of the representation: accepted, ignored.
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "proposed"
    assert Proposal.objects.get(pk=proposal.pk).status == "proposed"


# --------------------------------------------------------------------------
# Evidence
# --------------------------------------------------------------------------


def test_evidence_lists_quotes_with_their_sources_and_offsets(api, proposal, source):
    response = api.get(EVIDENCE)
    assert response.status_code == 200
    quote = "Premier Li called for the signing of an anti-extremism treaty."
    (item,) = response.json()
    assert item["quote"] == quote
    assert item["source"] == {"id": source.pk, "title": "Sample report"}
    assert (item["start"], item["end"]) == (15, 77)
    assert SAMPLE_TEXT[item["start"] : item["end"]] == quote


def test_evidence_offsets_are_found_automatically(editor_api, proposal, source):
    quote = "A researcher said the bloc may launch a cooperative mechanism."
    response = editor_api.post(EVIDENCE, {"source": {"id": source.pk}, "quote": quote}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["start"], body["end"]) == (78, 140)
    assert SAMPLE_TEXT[78:140] == quote
    stored = Evidence.objects.get(pk=body["id"])
    assert (stored.quote, stored.start, stored.end) == (quote, 78, 140)


def test_whitespace_at_the_ends_of_a_quote_is_kept_exactly(editor_api, proposal, source):
    quote = " A researcher said "
    response = editor_api.post(EVIDENCE, {"source": {"id": source.pk}, "quote": quote}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["quote"] == " A researcher said "
    assert (response.json()["start"], response.json()["end"]) == (77, 96)
    stored = Evidence.objects.get(pk=response.json()["id"])
    assert stored.quote == " A researcher said "
    assert SAMPLE_TEXT[stored.start : stored.end] == stored.quote


def test_quote_not_in_the_source_is_a_400_naming_quote(editor_api, proposal, source):
    response = editor_api.post(EVIDENCE, {"source": {"id": source.pk}, "quote": "Nobody said this."}, format="json")
    body = assert_problem(response, 400, "quote")
    assert body["errors"] == [
        {"field": "quote", "code": "invalid", "detail": "This quote does not occur verbatim in the source text."}
    ]
    assert proposal.evidence.count() == 1


def test_ambiguous_quote_is_a_400_naming_quote(editor_api, proposal, source):
    quote = "The treaty was discussed again."
    response = editor_api.post(EVIDENCE, {"source": {"id": source.pk}, "quote": quote}, format="json")
    body = assert_problem(response, 400, "quote")
    assert "occurs 2 times" in body["errors"][0]["detail"]
    assert proposal.evidence.count() == 1


def test_start_picks_one_of_several_occurrences(editor_api, proposal, source):
    quote = "The treaty was discussed again."
    second = SAMPLE_TEXT.rindex(quote)
    response = editor_api.post(EVIDENCE, {"source": {"id": source.pk}, "quote": quote, "start": second}, format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["start"], response.json()["end"]) == (second, second + len(quote))


def test_explicit_wrong_offsets_are_a_400_naming_start(editor_api, proposal, source):
    quote = "A researcher said"
    response = editor_api.post(
        EVIDENCE, {"source": {"id": source.pk}, "quote": quote, "start": 0, "end": len(quote)}, format="json"
    )
    body = assert_problem(response, 400, "start")
    assert "occurs at offset(s) 78" in body["errors"][0]["detail"]
    assert proposal.evidence.count() == 1


def test_attaching_the_same_span_twice_is_a_400_for_the_request_as_a_whole(editor_api, proposal, source):
    quote = "Premier Li called for the signing of an anti-extremism treaty."
    response = editor_api.post(EVIDENCE, {"source": {"id": source.pk}, "quote": quote}, format="json")
    body = assert_problem(response, 400, "non_field_errors")
    assert body["errors"][0]["code"] == "unique_together"
    assert proposal.evidence.count() == 1


def test_offsets_past_the_end_of_the_text_name_start(editor_api, proposal, source):
    response = editor_api.post(
        EVIDENCE, {"source": {"id": source.pk}, "quote": "A researcher", "start": 100000}, format="json"
    )
    assert_problem(response, 400, "start")


def test_end_without_start_is_refused_naming_start(editor_api, proposal, source):
    response = editor_api.post(
        EVIDENCE, {"source": {"id": source.pk}, "quote": "A researcher", "end": 90}, format="json"
    )
    body = assert_problem(response, 400, "start")
    assert body["errors"][0]["detail"] == "Give start with end, or neither."


def test_evidence_from_an_unknown_source_is_refused(editor_api, proposal):
    response = editor_api.post(EVIDENCE, {"source": {"id": 999999}, "quote": "x"}, format="json")
    assert_problem(response, 400, "source.id")


def test_attaching_evidence_moves_the_proposal_version(editor_api, proposal, source):
    before = Proposal.objects.get(pk=proposal.pk)
    editor_api.post(EVIDENCE, {"source": {"id": source.pk}, "quote": "A researcher"}, format="json")
    after = Proposal.objects.get(pk=proposal.pk)
    assert after.version == before.version + 1
    assert after.updated_at > before.updated_at


def test_source_detail_has_the_text_every_quote_points_into(api, db):
    source = SourceFactory()
    first = EvidenceFactory(source=source)
    second = EvidenceFactory(source=source, proposal=first.proposal, quote=source.text.split(". ")[2])
    third = EvidenceFactory(source=source, quote=" opens here. ")  # another proposal, same source

    body = api.get(f"/api/v1/sources/{source.pk}/").json()

    assert body["text"] == source.text
    assert body["evidence_count"] == 3
    seen = []
    for proposal_slug in (first.proposal.slug, third.proposal.slug):
        for item in api.get(f"/api/v1/proposals/{proposal_slug}/evidence/").json():
            assert body["text"][item["start"] : item["end"]] == item["quote"]
            seen.append(item["id"])
    assert sorted(seen) == sorted([first.pk, second.pk, third.pk])
    assert "text" not in api.get("/api/v1/sources/").json()["results"][0]


# --------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------


def test_history_lists_who_changed_which_fields_newest_first(api, editor_api, db):
    ProposalFactory(slug="tracked", title="First title", summary="Same.")
    write(editor_api, "patch", "/api/v1/proposals/tracked/", {"title": "Second title"})

    response = api.get("/api/v1/proposals/tracked/history/")

    assert response.status_code == 200
    entries = response.json()
    newest = entries[0]
    assert set(newest) == {"history_id", "date", "type", "user", "role", "reason", "changes"}
    assert newest["type"] == "changed"
    assert (newest["user"], newest["role"]) == (None, "editor")
    assert newest["changes"] == [{"field": "title", "old": "First title", "new": "Second title"}]
    created = entries[-1]
    assert created["type"] == "created"
    assert {"field": "title", "old": None, "new": "First title"} in created["changes"]
    assert {"field": "status", "old": None, "new": "proposed"} in created["changes"]
    assert [e["history_id"] for e in entries] == sorted((e["history_id"] for e in entries), reverse=True)


def test_history_records_the_status_change_from_an_event(api, editor_api, proposal):
    editor_api.post(EVENTS, {"status": "stalled", "occurred_on": "2019-01-01"}, format="json")
    newest = editor_api.get("/api/v1/proposals/anti-extremism-treaty/history/").json()[0]
    assert newest["user"] == "editor"
    assert newest["changes"] == [{"field": "status", "old": "proposed", "new": "stalled"}]


def test_history_of_an_unknown_proposal_is_404(api, db):
    assert_problem(api.get("/api/v1/proposals/nobody/history/"), 404)


def test_the_same_event_twice_is_refused_and_changes_nothing(editor_api, proposal):
    # Review finding 7: StatusEvent.check_not_duplicate, for every surface.
    body = {"status": "stalled", "occurred_on": "2016-03-01", "precision": "day"}
    assert editor_api.post(EVENTS, body, format="json").status_code == 201
    version = Proposal.objects.get(pk=proposal.pk).version

    response = editor_api.post(EVENTS, {**body, "note": "again"}, format="json")

    assert_problem(response, 400)
    assert "already has this event" in str(response.json())
    assert StatusEvent.objects.filter(proposal=proposal, status="stalled").count() == 1
    assert Proposal.objects.get(pk=proposal.pk).version == version
    # Another precision is another claim.
    assert editor_api.post(EVENTS, {**body, "precision": "month"}, format="json").status_code == 201
