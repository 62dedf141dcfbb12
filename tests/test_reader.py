"""The source reader (issue #13.1): marks split into segments at every
boundary, the page renders them linked to their proposals, and attaching a
selected passage goes through ``evidence_attach`` (``Evidence.clean``)."""

import re

import pytest
from django.urls import reverse

from proposals import services
from proposals.models import Evidence, Proposal, Source
from proposals.reader import render_text, segments

from .admin_helpers import limited_client

EMOJI_TEXT = "Intro 😀 then 中文引文 here: the 🚀 launch of a joint mechanism. End."


def _mark(start, end, label="x"):
    return {"start": start, "end": end, "kind": "quote", "label": label, "url": "/p/", "id": f"m{start}-{end}"}


def test_segments_split_at_every_boundary_and_list_every_covering_mark():
    marks = [_mark(2, 8), _mark(5, 12), _mark(5, 6)]
    got = segments("abcdefghijklmnop", marks)
    assert [(a, b) for a, b, _ in got] == [(0, 2), (2, 5), (5, 6), (6, 8), (8, 12), (12, 16)]
    assert [sorted(c) for _, _, c in got] == [[], [0], [0, 1, 2], [0, 1], [1], []]
    # Outermost (longest) first, innermost last: the link goes to the innermost.
    assert got[2][2][-1] == 2


def test_rendered_segments_carry_code_point_offsets_and_keep_the_text():
    text = "a😀b\r\nc<d>"
    html = render_text(text, [_mark(1, 3)])
    starts = [int(n) for n in re.findall(r'data-start="(\d+)"', html)]
    assert starts == [0, 1, 3]
    assert "&#13;" in html and "&lt;d&gt;" in html  # CR kept past the HTML parser; text escaped
    assert 'class="seg mark depth-1 kind-quote"' in html


@pytest.fixture
def emoji_source(db):
    return services.record_save(instance=Source(), slug="emoji-source", title="Emoji and CJK", text=EMOJI_TEXT)


def test_the_reader_highlights_every_quote_linked_to_its_proposal(staff_client, proposal, source):
    other = services.proposal_create(slug="mechanism", title="Cooperative mechanism")
    services.evidence_attach(proposal=other, source=source, quote="Premier Li called for the signing")
    response = staff_client.get(reverse("admin:proposals_source_reader", args=[source.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('class="seg mark depth-2') == 1  # the overlap
    assert f'data-href="/admin/proposals/proposal/{other.pk}/change/"' in page
    assert f'data-href="/admin/proposals/proposal/{proposal.pk}/change/"' in page
    # Highlights are not links: a mouse selection may start inside one.
    assert '<a class="seg' not in page and '<mark class="seg mark' in page
    assert "proposals/reader.js" in page
    # The source's change page links to the reader and lists who cites it.
    change = staff_client.get(reverse("admin:proposals_source_change", args=[source.pk])).content.decode()
    assert reverse("admin:proposals_source_reader", args=[source.pk]) in change
    assert "Cooperative mechanism</a> (1)" in change


def test_attaching_a_passage_with_emoji_and_cjk_stores_code_point_offsets(staff_client, proposal, emoji_source):
    start = EMOJI_TEXT.index("中文")
    end = EMOJI_TEXT.index("mechanism") + len("mechanism")
    url = reverse("admin:proposals_source_reader", args=[emoji_source.pk])
    response = staff_client.post(
        url, {"start": start, "end": end, "quote": EMOJI_TEXT[start:end], "proposal": proposal.pk}
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    evidence = Evidence.objects.get(source=emoji_source)
    assert (evidence.start, evidence.end, evidence.proposal_id) == (start, end, proposal.pk)
    assert evidence.history.get().history_user.username == "staff"


def test_a_passage_that_is_not_at_its_offsets_is_refused_and_changes_nothing(staff_client, proposal, emoji_source):
    start = EMOJI_TEXT.index("中文")
    # UTF-16 offsets (what a careless script would send) are off by the emoji.
    url = reverse("admin:proposals_source_reader", args=[emoji_source.pk])
    response = staff_client.post(
        url, {"start": start + 1, "end": start + 5, "quote": "中文引文", "new_title": "Should not exist"}
    )
    assert response.status_code == 200
    # The message shows both texts as they are (repr), so a difference shows.
    assert "is &#x27;文引文 &#x27;, not the selected &#x27;中文引文&#x27;" in response.content.decode()
    assert not Evidence.objects.filter(source=emoji_source).exists()
    assert not Proposal.objects.filter(title="Should not exist").exists()


def test_attaching_to_a_new_proposal_creates_both_in_one_step(staff_client, emoji_source):
    start = EMOJI_TEXT.index("the 🚀")
    end = start + len("the 🚀 launch")
    url = reverse("admin:proposals_source_reader", args=[emoji_source.pk])
    response = staff_client.post(
        url, {"start": start, "end": end, "quote": EMOJI_TEXT[start:end], "new_title": "Joint rocket launch"}
    )
    assert response.status_code == 302
    created = Proposal.objects.get(slug="joint-rocket-launch")
    assert created.evidence.get().start == start
    assert created.history.count() == 1


def test_the_attach_form_needs_a_proposal_or_a_title(staff_client, emoji_source):
    url = reverse("admin:proposals_source_reader", args=[emoji_source.pk])
    response = staff_client.post(url, {"start": 0, "end": 5, "quote": "Intro"})
    assert response.status_code == 200
    assert "Choose the proposal this passage backs" in response.content.decode()


def test_a_user_without_the_evidence_permission_cannot_attach(client, django_user_model, emoji_source, proposal):
    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_source"))
    client.force_login(viewer)
    url = reverse("admin:proposals_source_reader", args=[emoji_source.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"start": 0, "end": 5, "quote": "Intro", "proposal": proposal.pk}).status_code == 403
    assert not Evidence.objects.filter(source=emoji_source).exists()


def test_the_reader_page_takes_a_fixed_number_of_queries(staff_client, proposal, source, django_assert_max_num_queries):
    for i in range(30):
        p = services.proposal_create(slug=f"p-{i}", title=f"P {i}")
        services.evidence_attach(proposal=p, source=source, quote="anti-extremism treaty")
    with django_assert_max_num_queries(4):
        assert staff_client.get(reverse("admin:proposals_source_reader", args=[source.pk])).status_code == 200


def test_the_proposal_page_shows_each_quote_in_its_context_with_a_link_to_the_reader(staff_client, proposal, source):
    evidence = proposal.evidence.get()
    page = staff_client.get(reverse("admin:proposals_proposal_change", args=[proposal.pk])).content.decode()
    block = re.search(r'<div class="quote-context">(.*?)</div>', page, re.S)[1]
    assert block.startswith(
        "At the summit, <mark>Premier Li called for the signing of an anti-extremism treaty.</mark>"
    )
    assert "A researcher said the bloc" in block
    assert f'/admin/proposals/source/{source.pk}/reader/#q{evidence.pk}"' in page
    # The quote box has room for the whole quote.
    assert re.search(r'<textarea name="evidence-0-quote" cols="60" rows="(\d+)"', page)
    # The evidence page shows it too.
    page = staff_client.get(reverse("admin:proposals_evidence_change", args=[evidence.pk])).content.decode()
    assert "<mark>Premier Li called" in page


def test_context_counts_code_points_around_emoji(staff_client, proposal, emoji_source):
    quote = "中文引文"
    services.evidence_attach(proposal=proposal, source=emoji_source, quote=quote)
    page = staff_client.get(reverse("admin:proposals_proposal_change", args=[proposal.pk])).content.decode()
    assert '<div class="quote-context">Intro 😀 then <mark>中文引文</mark> here: the 🚀 launch' in page


READER = "admin:proposals_source_reader"
LI = "Premier Li called for the signing"


def _li(source, **data):
    start = source.text.index(LI)
    return {"start": start, "end": start + len(LI), "quote": LI, **data}


def test_reader_cannot_create_a_proposal_without_add_proposal(client, django_user_model, source):
    # Review finding 2.
    limited_client(django_user_model, client, "view_source", "add_evidence")
    page = client.get(reverse(READER, args=[source.pk])).content.decode()
    assert 'name="new_title"' not in page
    client.post(reverse(READER, args=[source.pk]), _li(source, new_title="Made by a clerk"))
    assert not Proposal.objects.filter(title="Made by a clerk").exists()


def test_reader_cannot_attach_to_a_proposal_without_change_proposal(client, django_user_model, source, proposal):
    limited_client(django_user_model, client, "view_source", "add_evidence", "view_proposal")
    before = proposal.evidence.count()
    response = client.post(reverse(READER, args=[source.pk]), _li(source, proposal=proposal.pk))
    assert "You may not change proposals" in response.content.decode()
    assert proposal.evidence.count() == before


def test_reader_multiline_selection_in_lf_text_attaches(staff_client, proposal):
    # Review finding 3: a browser posts form values with CRLF line breaks.
    text = "First paragraph ends here.\nSecond paragraph starts here."
    src = services.record_save(instance=Source(), slug="lf-text", title="LF text", text=text)
    start = text.index("ends")
    end = start + len("ends here.\nSecond")
    staff_client.post(
        reverse(READER, args=[src.pk]),
        {"start": start, "end": end, "quote": "ends here.\r\nSecond", "proposal": proposal.pk},
    )
    evidence = proposal.evidence.get(source=src)
    assert (evidence.start, evidence.end, evidence.quote) == (start, end, "ends here.\nSecond")


def test_reader_new_proposal_with_cjk_title(staff_client, source):
    # Review finding 9: a slug is made from any script.
    response = staff_client.post(reverse(READER, args=[source.pk]), _li(source, new_title="反极端主义公约"))
    assert Proposal.objects.filter(title="反极端主义公约").exists(), response.context["form"].errors
    assert Proposal.objects.get(title="反极端主义公约").slug == "fanjiduanzhuyigongyue"


def test_reader_new_proposal_title_with_underscore_and_taken_slug(staff_client, source, proposal):
    staff_client.post(reverse(READER, args=[source.pk]), _li(source, new_title="Anti_extremism treaty"))
    assert Proposal.objects.get(title="Anti_extremism treaty").slug == "anti-extremism-treaty-2"


def test_reader_slug_error_is_shown_on_the_slug_field(staff_client, source):
    response = staff_client.post(reverse(READER, args=[source.pk]), _li(source, new_title="T", new_slug="Bad_Slug"))
    assert "lowercase letters" in str(response.context["form"].errors["new_slug"])
    assert not Proposal.objects.filter(title="T").exists()


def test_reader_offsets_beyond_the_text_get_one_clear_error(staff_client, source, proposal):
    # Review finding 14: no raw "less than or equal to 2147483647", no duplicates.
    big = 10**12
    response = staff_client.post(
        reverse(READER, args=[source.pk]), {"start": big, "end": big + 5, "quote": "x", "proposal": proposal.pk}
    )
    errors = response.context["form"].non_field_errors()
    assert len(errors) == 1 and "not within the text" in errors[0]
    assert "2147483647" not in response.content.decode()


def test_quote_in_context_at_text_edges_has_no_ellipsis_and_counts_code_points(staff_client, proposal):
    # Review finding 10: "…" only where the text goes on.
    text = "😀 Start here. middle 上海 words. End 👍"
    src = services.record_save(instance=Source(), slug="edges", title="Edges", text=text)
    services.evidence_attach(proposal=proposal, source=src, quote="😀 Start", start=0, end=7)
    services.evidence_attach(proposal=proposal, source=src, quote="End 👍")
    services.evidence_attach(proposal=proposal, source=src, quote="上海")
    page = staff_client.get(reverse("admin:proposals_proposal_change", args=[proposal.pk])).content.decode()
    assert "<mark>上海</mark> words. End 👍</div>" in page  # code points, not bytes
    assert '<div class="quote-context"><mark>😀 Start</mark>' in page
    assert "<mark>End 👍</mark></div>" in page
    assert '<div class="quote-context">😀 Start here. middle <mark>上海</mark>' in page


def test_quote_in_context_elides_only_where_the_text_goes_on(staff_client, proposal):
    from proposals.admin import CONTEXT_CHARS

    text = "a" * (CONTEXT_CHARS + 5) + " QUOTE " + "b" * CONTEXT_CHARS + "c"
    src = services.record_save(instance=Source(), slug="long", title="Long", text=text)
    services.evidence_attach(proposal=proposal, source=src, quote="QUOTE")
    page = staff_client.get(reverse("admin:proposals_proposal_change", args=[proposal.pk])).content.decode()
    expected = "…" + "a" * (CONTEXT_CHARS - 1) + " <mark>QUOTE</mark> " + "b" * (CONTEXT_CHARS - 1) + "…</div>"
    assert expected in page
    # Exactly CONTEXT_CHARS after the quote, and no more: no "…".
    text2 = "x QUOTE2 " + "b" * (CONTEXT_CHARS - 1)
    src2 = services.record_save(instance=Source(), slug="long2", title="Long 2", text=text2)
    services.evidence_attach(proposal=proposal, source=src2, quote="QUOTE2")
    page = staff_client.get(reverse("admin:proposals_proposal_change", args=[proposal.pk])).content.decode()
    assert "<mark>QUOTE2</mark> " + "b" * (CONTEXT_CHARS - 1) + "</div>" in page
