"""The suggestions API: the suggest step, lists, accept and reject."""

import datetime as dt

import pytest
from django.core.management import call_command

from proposals import services as core
from proposals.models import Evidence, Participation, Source, Suggestion
from proposals.suggestions import services
from tests.api.helpers import assert_problem

SUGGEST = "/api/v1/sources/astana-2017/suggest/"
LIST = "/api/v1/suggestions/"


def test_later_news_to_records_through_the_api(editor_api, later_news, treaty_world):
    response = editor_api.post(SUGGEST, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    (ratified,) = [s for s in body if s["kind"] == "participation" and s["action"] == "ratified"]
    assert ratified["proposal"] == "sco-anti-extremism-treaty"
    assert ratified["party"] == "kazakhstan"
    assert (ratified["occurred_on"], ratified["precision"]) == ("2018-03-12", "day")
    assert later_news.text[ratified["start"] : ratified["end"]] == ratified["quote"]

    accepted = editor_api.post(f"{LIST}{ratified['id']}/accept/", {}, format="json")
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["state"] == "accepted"
    row = Participation.objects.get(pk=accepted.json()["participation"])
    evidence = Evidence.objects.get(pk=accepted.json()["evidence"])
    assert row.evidence == evidence
    assert later_news.text[evidence.start : evidence.end] == evidence.quote
    proposal = editor_api.get("/api/v1/proposals/sco-anti-extremism-treaty/evidence/").json()
    assert [e["quote"] for e in proposal] == [ratified["quote"]]

    rerun = editor_api.post(SUGGEST, format="json")
    assert (rerun.status_code, rerun.json()) == (200, [])


def test_writes_need_an_editor(api, reader, later_news):
    assert_problem(api.post(SUGGEST, format="json"), 401)
    api.force_authenticate(reader)
    assert_problem(api.post(SUGGEST, format="json"), 403)
    suggestion = services.suggest_for_source(later_news)[0]
    assert_problem(api.post(f"{LIST}{suggestion.pk}/accept/", {}, format="json"), 403)
    assert_problem(api.post(f"{LIST}{suggestion.pk}/reject/", format="json"), 403)
    assert api.get(f"{LIST}{suggestion.pk}/").status_code == 200
    assert Suggestion.objects.filter(state="pending").count() == Suggestion.objects.count()


def test_unknown_source_is_404(editor_api, db):
    assert_problem(editor_api.post("/api/v1/sources/nope/suggest/", format="json"), 404)


def test_filters_and_bad_filter_values(editor_api, later_news):
    created = services.suggest_for_source(later_news)
    services.suggestion_reject(suggestion=created[0])
    listed = editor_api.get(LIST, {"source": "astana-2017", "kind": "participation", "state": "pending"}).json()
    expected = [s.pk for s in created[1:] if s.kind == "participation"]
    assert [s["id"] for s in listed["results"]] == expected
    assert editor_api.get(LIST, {"state": "rejected"}).json()["count"] == 1
    assert_problem(editor_api.get(LIST, {"source": "other"}), 400, "source")
    assert editor_api.get(LIST, {"source": str(later_news.pk)}).json()["count"] == len(created)
    assert_problem(editor_api.get(LIST, {"kind": "rumour"}), 400, "kind")
    assert_problem(editor_api.get(LIST, {"state": "maybe"}), 400, "state")


def test_accept_corrections_and_bad_input(editor_api, later_news, treaty_world):
    created = services.suggest_for_source(later_news)
    (signed,) = [s for s in created if s.kind == "status_event"]
    url = f"{LIST}{signed.pk}/accept/"
    assert_problem(editor_api.post(url, {"colour": "red"}, format="json"), 400, "colour")
    assert_problem(editor_api.post(url, {"proposal": "no-such"}, format="json"), 400, "proposal")
    assert_problem(editor_api.post(url, {"status": "done"}, format="json"), 400, "status")
    assert_problem(editor_api.post(url, {"occurred_on": "2099-01-01"}, format="json"), 400, "occurred_on")
    assert_problem(editor_api.post(url, "[1]", content_type="application/json"), 400)
    assert_problem(editor_api.post(url, "status=adopted", content_type="application/x-www-form-urlencoded"), 415)
    assert Evidence.objects.count() == 0
    ok = editor_api.post(
        url, {"occurred_on": "2017-06-09", "precision": "day", "note": "Astana summit."}, format="json"
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["occurred_on"] == "2017-06-09"
    event = treaty_world["treaty"].events.get(status="adopted")
    assert (event.occurred_on, event.precision) == (dt.date(2017, 6, 9), "day")
    assert "Astana summit." in event.note
    assert_problem(editor_api.post(url, {}, format="json"), 409)
    assert_problem(editor_api.post(f"{LIST}{signed.pk}/reject/", format="json"), 409)
    assert_problem(editor_api.post(f"{LIST}999999/accept/", {}, format="json"), 404)


def test_reject_then_accept_is_409(editor_api, later_news):
    suggestion = services.suggest_for_source(later_news)[0]
    response = editor_api.post(f"{LIST}{suggestion.pk}/reject/", format="json")
    assert response.json()["state"] == "rejected"
    assert_problem(editor_api.post(f"{LIST}{suggestion.pk}/accept/", {}, format="json"), 409)


@pytest.mark.parametrize("n", [3, 30])
def test_list_and_detail_take_fixed_queries(api, treaty_world, django_assert_num_queries, n):
    for i in range(n):
        source = core.record_save(
            instance=Source(),
            slug=f"news-{i}",
            title=f"News {i}",
            published_on=dt.date(2018, 3, 14),
            text=f"Item {i}. Kazakhstan ratified the SCO Convention on Countering Extremism on 12 March 2018.",
        )
        services.suggest_for_source(source)
    with django_assert_num_queries(2):  # count, page
        response = api.get(LIST, {"page_size": 200})
    assert response.json()["count"] >= n
    pk = Suggestion.objects.first().pk
    with django_assert_num_queries(1):
        api.get(f"{LIST}{pk}/")


def test_suggest_command_reports_and_reruns(later_news, capsys):
    call_command("suggest", "astana-2017", "--no-progress")
    out = capsys.readouterr().out
    assert "participation" in out
    assert f"{Suggestion.objects.count()} suggestion(s) created for astana-2017" in out
    call_command("suggest", "astana-2017", "--no-progress")
    assert "0 suggestion(s) created for astana-2017: nothing new." in capsys.readouterr().out


def test_later_news_about_a_seed_proposal(editor_api, db):
    """The issue's acceptance test, on the curated corpus itself."""
    from proposals.importers import load_seeds

    load_seeds()
    core.record_save(
        instance=Source(),
        slug="astana-signing",
        title="SCO leaders sign convention on extremism",
        published_on=dt.date(2017, 6, 9),
        text=(
            "ASTANA — Leaders of the Shanghai Cooperation Organisation on Friday signed the SCO Convention on "
            "Countering Extremism.\n\nThe document was signed by the heads of state of China, Russia and "
            "Kazakhstan."
        ),
    )
    response = editor_api.post("/api/v1/sources/astana-signing/suggest/", format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    (china,) = [s for s in body if s["kind"] == "participation" and s["party"] == "china"]
    assert (china["proposal"], china["action"], china["occurred_on"]) == (
        "sco-anti-extremism-treaty",
        "signed",
        "2017-06-09",
    )
    (adopted,) = [s for s in body if s["kind"] == "status_event"]
    assert (adopted["proposal"], adopted["status"], adopted["occurred_on"]) == (
        "sco-anti-extremism-treaty",
        "adopted",
        "2017-06-09",
    )
    assert "relative" in adopted["date_note"]
    for suggestion in (china, adopted):
        accepted = editor_api.post(f"{LIST}{suggestion['id']}/accept/", {}, format="json")
        assert accepted.status_code == 200, accepted.content
    treaty = editor_api.get("/api/v1/proposals/sco-anti-extremism-treaty/").json()
    assert treaty["status"] == "adopted"
    row = Participation.objects.get(proposal__slug="sco-anti-extremism-treaty", party__slug="china")
    assert row.evidence.source.text[row.evidence.start : row.evidence.end] == row.evidence.quote
    rerun = editor_api.post("/api/v1/sources/astana-signing/suggest/", format="json")
    assert (rerun.status_code, rerun.json()) == (200, [])


def test_a_source_too_long_to_read_in_a_request_is_a_400_and_stores_nothing(editor_api, later_news, monkeypatch):
    monkeypatch.setattr(services, "MAX_SUGGEST_CHARS", len(later_news.text) - 1)
    r = editor_api.post(SUGGEST, format="json")
    assert_problem(r, 400)
    assert "Split it into several sources" in r.content.decode()
    assert not Suggestion.objects.exists()


def test_a_decided_suggestion_is_409_even_with_a_bad_body(editor_api, later_news):
    suggestion = services.suggest_for_source(later_news)[0]
    assert editor_api.post(f"{LIST}{suggestion.pk}/reject/", format="json").status_code == 200
    assert_problem(editor_api.post(f"{LIST}{suggestion.pk}/accept/", {"colour": "red"}, format="json"), 409)
    assert_problem(editor_api.post(f"{LIST}{suggestion.pk}/accept/", {"occurred_on": "nope"}, format="json"), 409)


def test_suggest_takes_no_body(editor_api, later_news):
    assert_problem(editor_api.post(SUGGEST, {"bogus": 1}, format="json"), 400)
    assert not Suggestion.objects.exists()
    assert editor_api.post(SUGGEST, format="json").status_code == 201
