"""The suggestion engine on its own: no database, known inputs."""

import datetime as dt

from proposals.suggestions.engine import Engine, Knowledge, KnownActor, KnownProposal, content_words, sentences

TREATY = KnownProposal(pk=1, slug="sco-anti-extremism-treaty", names=("SCO anti-extremism treaty",))
OTHER = KnownProposal(
    pk=2, slug="shanghai-convention", names=("Shanghai convention on countering terrorism, separatism and extremism",)
)
KZ = KnownActor(pk=10, slug="kazakhstan", names=("Kazakhstan",), kind="state", country_code="KZ")
LI = KnownActor(pk=11, slug="li-keqiang", names=("Li Keqiang", "李克强"), kind="person")


def run(text, published_on=dt.date(2017, 6, 10), precision="day", proposals=(TREATY, OTHER), actors=(KZ, LI)):
    return Engine(Knowledge(list(proposals), list(actors))).run(
        text, published_on=published_on, published_precision=precision
    )


def test_sentence_offsets_are_code_points_and_hold_the_text():
    text = "Emoji 😀 first. 李克强 spoke on Tuesday.\nNew paragraph here."
    spans = sentences(text)
    assert [text[a:b] for a, b in spans] == ["Emoji 😀 first.", "李克强 spoke on Tuesday.", "New paragraph here."]


def test_every_quote_is_the_text_at_its_offsets():
    text = "Intro 😀😀. Kazakhstan ratified the SCO Convention on Countering Extremism on 12 March 2018."
    found = run(text)
    assert found
    for item in found:
        assert text[item.start : item.end] == item.quote


def test_ratification_by_a_named_state_is_a_dated_participation():
    found = run("Kazakhstan ratified the SCO Convention on Countering Extremism on 12 March 2018.")
    (item,) = [f for f in found if f.kind == "participation"]
    assert (item.proposal, item.action, item.party, item.party_name) == (1, "ratified", 10, "Kazakhstan")
    assert (item.occurred_on, item.precision, item.date_note) == (dt.date(2018, 3, 12), "day", "")
    assert "ratified" in item.explanation


def test_relative_date_resolved_against_the_source_date_with_a_note():
    found = run("The SCO Convention on Countering Extremism was signed in Astana on Friday.", dt.date(2017, 6, 10))
    (event,) = [f for f in found if f.kind == "status_event"]
    assert (event.status, event.occurred_on, event.precision) == ("adopted", dt.date(2017, 6, 9), "day")
    assert "relative" in event.date_note
    assert "2017-06-10" in event.date_note


def test_relative_day_in_a_source_dated_to_the_month_keeps_month_precision():
    found = run("The SCO anti-extremism treaty was signed on Tuesday.", dt.date(2015, 12, 1), "month")
    (event,) = [f for f in found if f.kind == "status_event"]
    assert (event.occurred_on, event.precision) == (dt.date(2015, 12, 1), "month")
    assert "known only to the month" in event.date_note


def test_last_month_is_a_month():
    found = run("Kazakhstan ratified the SCO anti-extremism treaty last month.", dt.date(2018, 4, 20))
    (item,) = [f for f in found if f.kind == "participation"]
    assert (item.occurred_on, item.precision) == (dt.date(2018, 3, 1), "month")


def test_a_call_for_signing_is_not_a_signature_and_a_future_one_is_not_an_event():
    found = run(
        "Li Keqiang called for the signing of an anti-extremism treaty. Kazakhstan will ratify the SCO treaty "
        "against extremism next year."
    )
    assert not [f for f in found if f.kind in ("participation", "status_event")]
    (call,) = found[:1]
    assert call.kind == "mention"
    assert (call.proposal, call.proponent, call.proponent_name) == (1, 11, "Li Keqiang")


def test_a_place_is_not_a_party():
    found = run("The SCO anti-extremism treaty was signed in Kazakhstan on 9 June 2017.")
    assert not [f for f in found if f.kind == "participation"]
    assert [f.status for f in found if f.kind == "status_event"] == ["adopted"]


def test_mention_ranks_alternatives_best_first():
    found = run("Officials discussed the Shanghai convention on countering terrorism, separatism and extremism.")
    (item,) = found
    assert item.kind == "mention"
    assert item.proposal == 2
    assert [a["slug"] for a in item.alternatives][0] == "shanghai-convention"
    assert item.alternatives == sorted(item.alternatives, key=lambda a: -a["score"])


def test_an_alias_in_another_script_names_the_proponent():
    found = run("李克强 urged members to adopt new rules on border control.", proposals=())
    (item,) = found
    assert (item.kind, item.proponent, item.proponent_name) == ("new_proposal", 11, "李克强")
    assert "urged" in item.explanation


def test_new_proposal_from_resolution_language_gets_a_title():
    found = run("The Council decides that a joint centre for border security shall be established.", proposals=())
    (item,) = found
    assert item.kind == "new_proposal"
    assert item.title.startswith("Joint centre for border security")


def test_equivalent_words_fold_treaty_names():
    assert set(content_words("SCO Convention on Countering Extremism")) == set(
        content_words("SCO anti-extremism treaty")
    )


def test_same_text_same_result():
    text = "Kazakhstan ratified the SCO anti-extremism treaty on 12 March 2018. Li Keqiang urged others to follow."
    assert run(text) == run(text)


ASTANA = (
    "ASTANA, June 9 (Reuters) - Leaders of the Shanghai Cooperation Organisation on Friday signed the "
    "SCO Convention on Countering Extremism, the treaty first called for by Chinese Premier Li Keqiang "
    "at the Zhengzhou meeting in December 2015.\n\n"
    "The convention was signed by China, Russia, Kazakhstan, Kyrgyzstan, Tajikistan and Uzbekistan, officials said.\n"
)
#: As in the seeds: a person with his country's code.
LI_CN = KnownActor(pk=11, slug="li-keqiang", names=("Li Keqiang",), kind="person", country_code="CN")


def test_signatures_get_the_signing_date_not_the_date_of_the_earlier_call():
    found = run(ASTANA, actors=(KZ, LI_CN))
    signatures = [f for f in found if f.kind == "participation" and f.action == "signed"]
    assert {f.party_name for f in signatures} >= {"China", "Russia", "Kazakhstan", "Uzbekistan"}
    assert {(f.occurred_on, f.precision) for f in signatures} == {(dt.date(2017, 6, 9), "day")}
    (adopted,) = [f for f in found if f.kind == "status_event"]
    assert adopted.occurred_on == dt.date(2017, 6, 9)


def test_a_person_who_called_for_the_treaty_is_not_a_signatory():
    found = run(ASTANA, actors=(KZ, LI_CN))
    parties = {f.party_name for f in found if f.kind == "participation"}
    assert "Li Keqiang" not in parties


def test_a_long_line_is_read_in_bounded_pieces_with_exact_offsets():
    from proposals.suggestions import engine

    unit = "Kazakhstan ratified the SCO Convention on Countering Extremism on 12 March 2018. Mr. Li spoke. "
    text = unit * 60  # one line, ~5,800 code points
    pieces = engine._pieces(text, 1000)
    assert all(len(p) <= 1000 for _, p in pieces)
    assert "".join(p for _, p in pieces) == text
    assert all(text[at : at + len(p)] == p for at, p in pieces)
    # Cuts fall at sentence ends, so the sentences are those of the whole line.
    spans = sentences(text)
    assert len(spans) == 120
    assert {text[a:b] for a, b in spans} == {unit.split(" Mr.")[0], "Mr. Li spoke."}
    # No sentence end at all: cut at spaces, nothing lost, no piece too long.
    run_on = "Minister " * 500
    assert "".join(p for _, p in engine._pieces(run_on, 1000)) == run_on
    assert max(len(p) for _, p in engine._pieces(run_on, 1000)) <= 1000


def test_a_pronoun_is_not_a_proponent_and_a_new_proposal_takes_the_sources_date():
    found = run("“We call upon all parties to bring it into force within two years,” he said.", proposals=())
    (item,) = [f for f in found if f.kind == "new_proposal"]
    assert (item.proponent, item.proponent_name) == (None, "")
    assert (item.occurred_on, item.precision) == (dt.date(2017, 6, 10), "day")
    assert "source's publication date" in item.date_note
    assert item.confidence < 0.9


def test_titles_do_not_stop_at_a_quotation_or_end_on_a_function_word_or_emoji():
    found = run(
        "Li also called on the bloc’s members to “maintain political security and social stability” in the face "
        "of threats.",
        proposals=(),
    )
    (item,) = [f for f in found if f.kind == "new_proposal"]
    assert item.title.startswith("Bloc’s members to maintain political security")
    assert item.title.split()[-1] not in {"to", "of", "the"}
    (emoji,) = [f for f in run("Ministers urged a regional water-sharing pact 🇰🇿🌊", proposals=()) if f.title]
    assert emoji.title == "Regional water-sharing pact"


def test_each_party_takes_the_date_of_its_own_clause():
    tj = KnownActor(pk=12, slug="tajikistan", names=("Tajikistan",), kind="state", country_code="TJ")
    found = run(
        "Kazakhstan ratified the SCO Convention on Countering Extremism in May 2018, and Tajikistan on 22 June 2018.",
        published_on=dt.date(2018, 7, 1),
        actors=(KZ, tj),
    )
    dates = {f.party_name: (f.occurred_on, f.precision) for f in found if f.kind == "participation"}
    assert dates == {"Kazakhstan": (dt.date(2018, 5, 1), "month"), "Tajikistan": (dt.date(2018, 6, 22), "day")}


def test_a_relative_date_in_an_undated_source_is_left_undated_with_a_note():
    found = run("Kazakhstan ratified the SCO Convention on Countering Extremism on Tuesday.", published_on=None)
    (item,) = [f for f in found if f.kind == "participation"]
    assert (item.occurred_on, item.precision) == (None, "")
    assert item.date_note == "“on Tuesday” is relative and the source has no date: left undated."
