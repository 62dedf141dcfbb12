"""The participation sub-resource, aliases on records, the per-party table,
the `party`/`party_action` filters, alias search, CSV columns and history,
through the API."""

import datetime as dt

import pytest

from proposals import services
from proposals.models import Actor, ActorAlias, ActorKind, Participation, Proposal, ProposalAlias, TopicAlias
from proposals.tracking import services as tracking
from tests.api.helpers import assert_problem, error_fields, write

API = "/api/v1"
PART = f"{API}/proposals/anti-extremism-treaty/participation/"
DETAIL = f"{API}/proposals/anti-extremism-treaty/"


@pytest.fixture
def china(db):
    return services.record_save(instance=Actor(), slug="china", name="China", kind=ActorKind.STATE, country_code="CN")


@pytest.fixture
def russia(db):
    return services.record_save(instance=Actor(), slug="russia", name="Russia", kind=ActorKind.STATE, country_code="RU")


def _etag(client, url=DETAIL):
    return client.get(url).headers["ETag"]


def _version(proposal):
    return Proposal.objects.filter(pk=proposal.pk).values_list("version", flat=True).get()


# --------------------------------------------------------------------------
# Participation sub-resource
# --------------------------------------------------------------------------


def test_adding_participation_moves_the_proposals_etag(editor_api, api, proposal, china):
    before = _etag(api)
    response = editor_api.post(
        PART,
        {"party": {"slug": "china"}, "action": "signed", "occurred_on": "2017-06-09", "note": "At Astana."},
        format="json",
        HTTP_IF_MATCH=before,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["party"] == {"id": china.pk, "slug": "china", "name": "China", "kind": "state"}
    assert (body["action"], body["action_label"], body["occurred_on"]) == ("signed", "Signature", "2017-06-09")
    after = _etag(api)
    assert after != before
    assert response.headers["X-Proposal-ETag"] == after


def test_the_detail_shows_a_per_party_table(editor_api, api, proposal, china, russia):
    quote = proposal.evidence.get()
    for party, action, day in [
        ("russia", "signed", "2017-06-09"),
        ("china", "ratified", "2017-11-01"),
        ("china", "signed", "2017-06-09"),
        ("china", "supported", None),
    ]:
        data = {"party": {"slug": party}, "action": action, "occurred_on": day}
        if party == "china" and action == "signed":
            data["evidence"] = quote.pk
        assert editor_api.post(PART, data, format="json").status_code == 201
    table = api.get(DETAIL).json()["participation"]
    assert [entry["party"]["slug"] for entry in table] == ["china", "russia"]
    china_actions = table[0]["actions"]
    assert [(a["action"], a["occurred_on"]) for a in china_actions] == [
        ("signed", "2017-06-09"),
        ("ratified", "2017-11-01"),
        ("supported", None),
    ]
    assert china_actions[0]["evidence"] == quote.pk
    assert set(china_actions[0]) == {
        "id",
        "action",
        "action_label",
        "occurred_on",
        "precision",
        "evidence",
        "note",
        "recorded_at",
    }
    flat = api.get(PART).json()
    assert [(r["party"]["slug"], r["action"]) for r in flat] == [
        ("china", "signed"),
        ("china", "ratified"),
        ("china", "supported"),
        ("russia", "signed"),
    ]


def test_a_stale_if_match_on_create_is_412_and_changes_nothing(editor_api, proposal, china):
    response = editor_api.post(
        PART, {"party": {"slug": "china"}, "action": "signed"}, format="json", HTTP_IF_MATCH='"1-1"'
    )
    assert_problem(response, 412)
    assert not Participation.objects.exists()


def test_changing_a_row_needs_the_proposals_if_match(editor_api, api, proposal, china):
    row = tracking.participation_record(proposal=proposal, party=china, action="signed")
    url = f"{PART}{row.pk}/"
    got = api.get(url)
    assert got.status_code == 200
    tag = got.headers["X-Proposal-ETag"]
    assert tag == _etag(api)

    assert_problem(editor_api.patch(url, {"occurred_on": "2017-06-09"}, format="json"), 428)
    assert_problem(editor_api.patch(url, {"occurred_on": "2017-06-09"}, format="json", HTTP_IF_MATCH='"0-0"'), 412)
    assert_problem(editor_api.delete(url, HTTP_IF_MATCH='"0-0"'), 412)
    row.refresh_from_db()
    assert row.occurred_on is None

    response = editor_api.patch(url, {"occurred_on": "2017-06-09"}, format="json", HTTP_IF_MATCH=tag)
    assert response.status_code == 200, response.content
    assert response.json()["occurred_on"] == "2017-06-09"
    new_tag = response.headers["X-Proposal-ETag"]
    assert new_tag != tag
    assert new_tag == _etag(api)

    response = editor_api.delete(url, HTTP_IF_MATCH=new_tag)
    assert response.status_code == 204
    assert response.headers["X-Proposal-ETag"] == _etag(api) != new_tag
    assert not Participation.objects.exists()


def test_a_row_of_another_proposal_is_404(editor_api, api, proposal, china):
    other = services.proposal_create(slug="other", title="Other")
    row = tracking.participation_record(proposal=other, party=china, action="signed")
    assert_problem(api.get(f"{PART}{row.pk}/"), 404)
    assert_problem(editor_api.delete(f"{PART}{row.pk}/", HTTP_IF_MATCH=_etag(api)), 404)
    assert_problem(api.get(f"{API}/proposals/nope/participation/"), 404)
    assert Participation.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"party": {"slug": "nobody"}, "action": "signed"}, "party.slug"),
        ({"party": {"slug": "china"}, "action": "ratify"}, "action"),
        ({"party": {"slug": "china"}}, "action"),
        ({"action": "signed"}, "party"),
        ({"party": "china", "action": "signed"}, "party"),
        ({"party": {"slug": 5}, "action": "signed"}, "party.slug"),
        ({"party": {"slug": "china"}, "action": "signed", "occurred_on": "2999-01-01"}, "occurred_on"),
        ({"party": {"slug": "china"}, "action": "signed", "occurred_on": "2001-06-15"}, "occurred_on"),
        ({"party": {"slug": "china"}, "action": "signed", "occurred_on": 20170609}, "occurred_on"),
        ({"party": {"slug": "china"}, "action": "signed", "occurred_on": "9 June 2017"}, "occurred_on"),
        ({"party": {"slug": "china"}, "action": "signed", "precision": "week"}, "precision"),
        ({"party": {"slug": "china"}, "action": "signed", "evidence": "1"}, "evidence"),
        ({"party": {"slug": "china"}, "action": "signed", "evidence": 999999}, "evidence"),
        ({"party": {"slug": "china"}, "action": "signed", "note": 5}, "note"),
        ({"party": {"slug": "china"}, "action": "signed", "recorded_by": 1}, "recorded_by"),
    ],
)
def test_bad_participation_is_a_400_and_changes_nothing(editor_api, api, proposal, china, data, field):
    before = _etag(api)
    response = editor_api.post(PART, data, format="json")
    assert_problem(response, 400, field)
    assert not Participation.objects.exists()
    assert _etag(api) == before


def test_evidence_of_another_proposal_is_a_400(editor_api, proposal, china, source):
    other = services.proposal_create(slug="other", title="Other")
    quote = services.evidence_attach(proposal=other, source=source, quote="Premier Li")
    response = editor_api.post(
        PART, {"party": {"slug": "china"}, "action": "signed", "evidence": quote.pk}, format="json"
    )
    assert_problem(response, 400, "evidence")
    assert not Participation.objects.exists()


def test_the_same_action_twice_is_a_400(editor_api, proposal, china):
    data = {"party": {"slug": "china"}, "action": "signed", "occurred_on": "2017-06-09"}
    assert editor_api.post(PART, data, format="json").status_code == 201
    response = editor_api.post(PART, data, format="json")
    assert_problem(response, 400)
    assert Participation.objects.count() == 1


def test_readers_and_anonymous_clients_cannot_write_participation(api, reader, proposal, china):
    assert_problem(api.post(PART, {"party": {"slug": "china"}, "action": "signed"}, format="json"), 401)
    api.force_authenticate(reader)
    assert_problem(api.post(PART, {"party": {"slug": "china"}, "action": "signed"}, format="json"), 403)
    assert not Participation.objects.exists()


def test_participation_changes_show_in_the_proposals_history(editor_api, api, proposal, china):
    editor_api.post(
        PART, {"party": {"slug": "china"}, "action": "ratified", "occurred_on": "2017-11-01"}, format="json"
    )
    reasons = [entry["reason"] for entry in api.get(f"{DETAIL}history/").json()]
    assert reasons[0] == "participation added: China ratified, 2017-11-01"


# --------------------------------------------------------------------------
# Aliases
# --------------------------------------------------------------------------


def test_aliases_are_written_with_the_record_and_move_its_etag(editor_api, api, actor):
    url = f"{API}/actors/li-keqiang/"
    before = _etag(api, url)
    response = write(editor_api, "patch", url, {"aliases": [{"name": "李克强", "language": "zh"}]})
    assert response.status_code == 200, response.content
    assert response.json()["aliases"] == [{"name": "李克强", "language": "zh"}]
    assert response.headers["ETag"] != before
    assert api.get(url).headers["ETag"] == response.headers["ETag"]
    history = api.get(f"{url}history/").json()
    assert history[0]["reason"] == "actor alias added: 李克强 (zh)"

    # Leaving aliases out keeps them; an empty list removes them.
    write(editor_api, "patch", url, {"description": "Premier"})
    assert api.get(url).json()["aliases"] == [{"name": "李克强", "language": "zh"}]
    write(editor_api, "patch", url, {"aliases": []})
    assert not ActorAlias.objects.exists()


def test_aliases_on_proposals_venues_and_topics(editor_api, api, proposal, venue, topic):
    for url in (DETAIL, f"{API}/venues/sco-summit/", f"{API}/topics/legal-instruments/"):
        response = write(editor_api, "patch", url, {"aliases": [{"name": "Another name"}]})
        assert response.status_code == 200, (url, response.content)
        assert api.get(url).json()["aliases"] == [{"name": "Another name", "language": ""}]
    response = editor_api.post(
        f"{API}/topics/",
        {"slug": "new-topic", "name": "New topic", "aliases": [{"name": "NT", "language": "en"}]},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert TopicAlias.objects.filter(topic__slug="new-topic", name="NT").exists()


@pytest.mark.parametrize(
    "aliases",
    [
        [{"name": "李克强", "language": "chinese"}],
        [{"name": "李克强", "language": "zh"}, {"name": "李克强", "language": "zh"}],
        [{"name": "Li Keqiang"}],
        [{"name": "   "}],
        [{"name": ""}],
        [{"name": 5}],
        [{"name": "x", "language": None}],
        [{"name": "x", "extra": 1}],
        ["李克强"],
        {"name": "李克强"},
        [{"name": "x" * 301}],
    ],
)
def test_bad_aliases_are_a_400_and_change_nothing(editor_api, api, actor, aliases):
    url = f"{API}/actors/li-keqiang/"
    before = api.get(url)
    response = write(editor_api, "patch", url, {"aliases": aliases, "description": "changed"})
    body = assert_problem(response, 400)
    assert any(field.startswith("aliases") for field in error_fields(response)), body
    after = api.get(url)
    assert after.headers["ETag"] == before.headers["ETag"]
    assert after.json() == before.json()
    assert not ActorAlias.objects.exists()


def test_a_bad_alias_on_create_creates_nothing(editor_api, db):
    response = editor_api.post(
        f"{API}/topics/", {"slug": "t", "name": "T", "aliases": [{"name": "x", "language": "??"}]}, format="json"
    )
    assert_problem(response, 400)
    assert not api_topics_exist()


def api_topics_exist():
    from proposals.models import Topic

    return Topic.objects.filter(slug="t").exists()


# --------------------------------------------------------------------------
# Filters, search, export
# --------------------------------------------------------------------------


def _slugs(client, query):
    response = client.get(f"{API}/proposals/?{query}")
    assert response.status_code == 200, response.content
    return sorted(row["slug"] for row in response.json()["results"])


def test_party_and_party_action_filters(api, proposal, china, russia):
    other = services.proposal_create(slug="other", title="Other", parties=[russia])
    tracking.participation_record(proposal=proposal, party=china, action="ratified")
    tracking.participation_record(proposal=other, party=china, action="signed")
    assert _slugs(api, "party=china") == ["anti-extremism-treaty", "other"]
    assert _slugs(api, f"party_id={china.pk}") == ["anti-extremism-treaty", "other"]
    assert _slugs(api, "party=russia") == ["other"]  # a party by the parties list
    assert _slugs(api, "party_action=ratified") == ["anti-extremism-treaty"]
    assert _slugs(api, "party=china&party_action=signed") == ["other"]
    assert _slugs(api, "party=russia&party_action=signed") == []  # the same row must hold both
    assert _slugs(api, "party_action=signed&party_action=ratified") == ["anti-extremism-treaty", "other"]
    assert_problem(api.get(f"{API}/proposals/?party_action=ratify"), 400, "party_action")
    assert_problem(api.get(f"{API}/proposals/?party=nobody"), 400, "party")


def test_q_finds_proposals_by_an_actors_alias(api, proposal, actor):
    services.proposal_create(slug="unrelated", title="Unrelated")
    assert _slugs(api, "q=李克强") == []
    tracking.alias_add(owner=actor, name="李克强", language="zh")
    assert _slugs(api, "q=李克强") == ["anti-extremism-treaty"]


def test_q_finds_a_proposal_by_its_own_alias(api, proposal):
    query = "q=SCO%20Convention%20on%20Countering%20Extremism"
    assert _slugs(api, query) == []
    tracking.alias_add(owner=proposal, name="SCO Convention on Countering Extremism", language="en")
    assert _slugs(api, query) == ["anti-extremism-treaty"]
    assert _slugs(api, "q=extremism") == ["anti-extremism-treaty"]  # the text search is unchanged


def test_q_finds_proposals_by_a_party_venue_or_topic_alias(api, proposal, china, venue, topic):
    tracking.participation_record(proposal=proposal, party=china, action="signed")
    tracking.alias_add(owner=china, name="中国", language="zh")
    tracking.alias_add(owner=venue, name="Shanghai Cooperation Organisation summit", language="en")
    tracking.alias_add(owner=topic, name="Treaties", language="en")
    assert _slugs(api, "q=中国") == ["anti-extremism-treaty"]
    assert _slugs(api, "q=Cooperation") == ["anti-extremism-treaty"]
    assert _slugs(api, "q=treaties") == ["anti-extremism-treaty"]


def test_csv_export_has_participation_and_alias_columns(api, proposal, china, russia):
    tracking.participation_record(proposal=proposal, party=russia, action="signed", occurred_on=dt.date(2017, 6, 9))
    tracking.participation_record(proposal=proposal, party=china, action="ratified", occurred_on=dt.date(2017, 11, 1))
    tracking.participation_record(proposal=proposal, party=china, action="signed", occurred_on=dt.date(2017, 6, 9))
    tracking.alias_add(owner=proposal, name="SCO Convention on Countering Extremism", language="en")
    import csv
    import io

    response = api.get(f"{API}/proposals/?format=csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["participation"] == "China: signed 2017-06-09, ratified 2017-11-01; Russia: signed 2017-06-09"
    assert rows[0]["aliases"] == "SCO Convention on Countering Extremism (en)"


def test_deleting_a_proposal_alias_moves_the_etag(editor_api, api, proposal):
    alias = tracking.alias_add(owner=proposal, name="Alias")
    before = _etag(api)
    tracking.alias_delete(alias=alias)
    assert _etag(api) != before
    assert not ProposalAlias.objects.exists()
