"""The staff's daily tools in a real browser (issue #13): the source reader
(highlights, selecting a passage and attaching it), quotes in context, the
history page, tokens, restoring a deleted proposal, the bulk status action,
and every page fitting 1280 px without a horizontal scrollbar."""

import pytest
from playwright.sync_api import expect

from proposals import services
from proposals.models import Evidence, Proposal, Source

pytestmark = pytest.mark.browser

EMOJI_TEXT = (
    "Intro 😀 then 中文引文 here: the 🚀 launch of a joint mechanism. End.\n"
    "Second paragraph, where the parties agreed to a hotline between capitals."
)


def no_horizontal_scroll(page) -> tuple[int, int]:
    return page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")


def assert_fits(page, what: str):
    width, inner = no_horizontal_scroll(page)
    assert width <= inner, f"{what}: the page is {width}px wide in a {inner}px window"


@pytest.fixture
def emoji_source(db):
    return services.record_save(instance=Source(), slug="emoji-source", title="Emoji and CJK", text=EMOJI_TEXT)


def select_between(page, first: str, last: str):
    """Select from the start of ``first`` to the end of ``last`` in the
    reader's text, as a mouse drag would (a DOM Range over its text nodes)."""
    page.evaluate(
        """([first, last]) => {
          const walker = document.createTreeWalker(document.getElementById('reader-text'), NodeFilter.SHOW_TEXT);
          let a = null, b = null, node;
          while ((node = walker.nextNode())) {
            if (!a && node.data.includes(first)) a = [node, node.data.indexOf(first)];
            if (node.data.includes(last)) b = [node, node.data.indexOf(last) + last.length];
          }
          const range = document.createRange();
          range.setStart(a[0], a[1]);
          range.setEnd(b[0], b[1]);
          const sel = window.getSelection();
          sel.removeAllRanges();
          sel.addRange(range);
        }""",
        [first, last],
    )


def test_reader_highlights_and_attaches_a_selected_passage(page, app_url, shot, login, staff, proposal, emoji_source):
    services.evidence_attach(proposal=proposal, source=emoji_source, quote="the 🚀 launch of a joint mechanism")
    services.evidence_attach(proposal=proposal, source=emoji_source, quote="joint mechanism. End.")
    login("staff", "pw-staff-1")
    page.goto(f"{app_url}/admin/proposals/source/{emoji_source.pk}/reader/")
    marks = page.locator("#reader-text mark.mark")
    expect(marks).to_have_count(3)  # two quotes overlapping: three segments
    expect(page.locator("#reader-text mark.mark.depth-2")).to_have_text("joint mechanism")
    expect(marks.first).to_have_attribute("data-href", f"/admin/proposals/proposal/{proposal.pk}/change/")
    shot("highlighted")

    # The passage spans an emoji, CJK text and a highlight.
    select_between(page, "中文", "the 🚀 launch")
    expect(page.locator("#selection-info")).to_contain_text("Selected")
    page.locator("#id_new_title").fill("Cooperation on rocket launches")
    shot("selected")
    page.locator("#attach-submit").click()
    expect(page.locator(".messagelist .success")).to_contain_text("Attached")
    created = Proposal.objects.get(title="Cooperation on rocket launches")
    evidence = created.evidence.get()
    start = EMOJI_TEXT.index("中文")
    end = EMOJI_TEXT.index("the 🚀 launch") + len("the 🚀 launch")
    assert (evidence.start, evidence.end, evidence.quote) == (start, end, EMOJI_TEXT[start:end])
    expect(page.locator("#reader-text mark.mark")).not_to_have_count(3)
    shot("attached")

    # A word chosen with the mouse (double-click), attached to an existing proposal.
    box = page.evaluate(
        """(word) => {
          const walker = document.createTreeWalker(document.getElementById('reader-text'), NodeFilter.SHOW_TEXT);
          let node;
          while ((node = walker.nextNode())) {
            const at = node.data.indexOf(word);
            if (at >= 0) {
              const range = document.createRange();
              range.setStart(node, at);
              range.setEnd(node, at + word.length);
              const r = range.getBoundingClientRect();
              return {x: r.x + r.width / 2, y: r.y + r.height / 2};
            }
          }
        }""",
        "Second",
    )
    page.mouse.dblclick(box["x"], box["y"])
    expect(page.locator("#id_quote")).to_have_value("Second")
    page.locator(".field-proposal .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill("Anti")
    page.locator(".select2-results__option", has_text="Anti-extremism treaty").click()
    page.locator("#attach-submit").click()
    expect(page.locator(".messagelist .success")).to_contain_text("Attached")
    second = Evidence.objects.get(proposal=proposal, quote="Second")
    assert second.start == EMOJI_TEXT.index("Second")
    assert_fits(page, "reader")
    page.set_viewport_size({"width": 1920, "height": 1000})
    shot("reader-1920")
    assert_fits(page, "reader at 1920")
    assert page.errors == []


def _point_of(page, word: str, at: float = 0.5) -> dict:
    """Viewport coordinates ``at`` (0: left edge, 1: right edge) across the
    first occurrence of ``word`` in the reader's text."""
    return page.evaluate(
        """([word, at]) => {
          const walker = document.createTreeWalker(document.getElementById('reader-text'), NodeFilter.SHOW_TEXT);
          let node;
          while ((node = walker.nextNode())) {
            const i = node.data.indexOf(word);
            if (i >= 0) {
              const range = document.createRange();
              range.setStart(node, i);
              range.setEnd(node, i + word.length);
              const r = range.getClientRects()[0];
              return {x: r.x + r.width * at, y: r.y + r.height / 2};
            }
          }
        }""",
        [word, at],
    )


def test_a_mouse_drag_from_inside_a_highlight_selects_and_attaches(page, app_url, login, staff, proposal, emoji_source):
    # Review finding 4: highlights were links, whose drag the script cancelled.
    services.evidence_attach(proposal=proposal, source=emoji_source, quote="joint mechanism")
    login("staff", "pw-staff-1")
    page.goto(f"{app_url}/admin/proposals/source/{emoji_source.pk}/reader/")
    begin = _point_of(page, "mechanism", 0.0)  # inside the highlight, at its "m"
    stop = _point_of(page, "End.", 1.0)
    page.mouse.move(begin["x"] + 1, begin["y"])
    page.mouse.down()
    page.mouse.move((begin["x"] + stop["x"]) / 2, stop["y"], steps=5)
    page.mouse.move(stop["x"], stop["y"], steps=5)
    page.mouse.up()
    start = EMOJI_TEXT.index("mechanism")
    end = EMOJI_TEXT.index("End.") + len("End.")
    expect(page.locator("#id_quote")).to_have_value(EMOJI_TEXT[start:end])
    assert page.url.endswith("/reader/")  # the drag did not follow the highlight's link
    page.locator("#id_new_title").fill("Dragged from a highlight")
    page.locator("#attach-submit").click()
    expect(page.locator(".messagelist .success")).to_contain_text("Attached")
    evidence = Proposal.objects.get(title="Dragged from a highlight").evidence.get()
    assert (evidence.start, evidence.end) == (start, end)
    # A plain click on a highlight still opens its proposal.
    page.locator("#reader-text mark.mark").first.click()
    page.wait_for_url("**/admin/proposals/proposal/*/change/")
    assert page.errors == []


def test_a_selection_across_a_line_break_in_an_lf_text_attaches(page, app_url, shot, login, staff, proposal):
    # Review finding 3: the browser posts the selection's LF as CR LF.
    text = "First paragraph ends here.\nSecond paragraph starts here.\n\nThird after a blank line."
    src = services.record_save(instance=Source(), slug="lf-text", title="LF text", text=text)
    login("staff", "pw-staff-1")
    page.goto(f"{app_url}/admin/proposals/source/{src.pk}/reader/")
    select_between(page, "ends here", "Third")
    expect(page.locator("#selection-quote")).to_contain_text("Second paragraph")
    page.locator("#id_new_title").fill("Across paragraphs")
    shot("multiline-selected")
    page.locator("#attach-submit").click()
    expect(page.locator(".messagelist .success")).to_contain_text("Attached")
    evidence = Proposal.objects.get(title="Across paragraphs").evidence.get()
    start, end = text.index("ends here"), text.index("Third") + len("Third")
    assert (evidence.start, evidence.end, evidence.quote) == (start, end, text[start:end])
    assert page.errors == []


def _admin_pages():
    """(name, changelist URL, change URL or None) for every registered model."""
    from django.contrib import admin
    from django.urls import NoReverseMatch, reverse

    pages = []
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        changelist = reverse("admin:{}_{}_changelist".format(*info))
        obj = model._default_manager.order_by("pk").first()
        try:
            change = None if obj is None else reverse("admin:{}_{}_change".format(*info), args=[obj.pk])
        except NoReverseMatch:  # API tokens: no change page
            change = None
        pages.append((f"{info[0]}.{info[1]}", changelist, change))
    return pages


def test_every_admin_page_fits_1280_and_1920_without_horizontal_scrolling(page, app_url, shot, login, staff):
    from proposals.importers import load_seeds
    from proposals.tokens import token_issue

    load_seeds()
    token_issue(user=staff, days=5)
    login("staff", "pw-staff-1")
    too_wide = []
    for width in (1280, 1920):
        page.set_viewport_size({"width": width, "height": 900})
        for name, changelist, change in _admin_pages():
            for kind, url in (("list", changelist), ("change", change)):
                if url is None:
                    continue
                response = page.goto(f"{app_url}{url}")
                assert response.status == 200, url
                scroll, inner = no_horizontal_scroll(page)
                if scroll > inner:
                    culprits = page.evaluate(
                        """(w) => Array.from(document.querySelectorAll('body *'))
                          .filter(e => e.getBoundingClientRect().right > w && e.children.length === 0)
                          .slice(0, 6).map(e => e.tagName + '.' + e.className + '#' + (e.name || e.id))""",
                        inner,
                    )
                    too_wide.append(f"{width}px {name} {kind}: {scroll}px {culprits}")
                    shot(f"too-wide-{width}-{name}-{kind}")
    assert too_wide == [], "\n".join(too_wide)


#: Boxes that scroll sideways on their own when their content is too wide
#: (a page-level check misses them: the page itself does not scroll).
OVERFLOWING = """() => Array.from(document.querySelectorAll(
    '#content .results, #content table, #content .inline-group, #content fieldset, #content-main, #content .tabular'))
  .filter(e => e.scrollWidth > e.clientWidth + 1)
  .map(e => {
    const right = e.getBoundingClientRect().right;
    const culprit = Array.from(e.querySelectorAll('*')).find(c => c.getBoundingClientRect().right > right + 1);
    const name = culprit ? `${culprit.tagName}.${culprit.className}#${culprit.id}` : '?';
    return `${e.tagName}#${e.id}.${e.className}: ${e.scrollWidth} > ${e.clientWidth} (${name})`;
  })"""


def test_lists_and_pages_fit_1280_with_the_navigation_sidebar_open_and_closed(page, app_url, shot, login, staff):
    # Review finding 6: with Django's navigation sidebar open the proposal
    # list's table scrolled sideways inside its box.
    from proposals.importers import load_seeds

    load_seeds()
    login("staff", "pw-staff-1")
    page.set_viewport_size({"width": 1280, "height": 900})
    proposal = Proposal.objects.order_by("pk").first()
    urls = [url for _, url, _ in _admin_pages()] + [f"/admin/proposals/proposal/{proposal.pk}/change/"]
    too_wide = []
    for sidebar in ("true", "false"):
        page.goto(f"{app_url}/admin/")
        page.evaluate("(v) => localStorage.setItem('django.admin.navSidebarIsOpen', v)", sidebar)
        for url in urls:
            page.goto(f"{app_url}{url}")
            assert page.locator("#nav-sidebar").is_visible() == (sidebar == "true"), url
            scroll, inner = no_horizontal_scroll(page)
            boxes = page.evaluate(OVERFLOWING)
            if scroll > inner or boxes:
                too_wide.append(f"sidebar {sidebar} {url}: page {scroll}/{inner} {boxes[:4]}")
        page.goto(f"{app_url}/admin/proposals/proposal/")
        shot(f"proposal-list-1280-sidebar-{'open' if sidebar == 'true' else 'closed'}")
    assert too_wide == [], "\n".join(too_wide)


def test_text_boxes_are_as_tall_as_their_text(page, app_url, shot, login, staff, proposal):
    # Review finding 11: the summary box was 3 rows and cut the text; a
    # status event's note was held to 2.6em and grew only on focus.
    import datetime as dt

    summary = " ".join(f"Sentence {i} of a long summary that staff must be able to read whole." for i in range(20))
    services.proposal_update(proposal=proposal, summary=summary)
    note = "First line of the note.\nSecond line.\nThird line.\nFourth line, the last."
    services.status_event_record(proposal=proposal, status="stalled", occurred_on=dt.date(2016, 3, 1), note=note)
    login("staff", "pw-staff-1")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{app_url}/admin/proposals/proposal/{proposal.pk}/change/")
    cut = page.evaluate(
        """() => Array.from(document.querySelectorAll('#content-main textarea'))
          .filter(t => t.offsetParent !== null && t.scrollHeight > t.clientHeight + 2)
          .map(t => `${t.name}: ${t.scrollHeight} > ${t.clientHeight}`)"""
    )
    assert cut == [], cut
    # An empty note box stays small.
    heights = page.evaluate(
        """() => Array.from(document.querySelectorAll('textarea[name$="-note"]'))
          .filter(t => !t.value && t.offsetParent !== null).map(t => t.offsetHeight)"""
    )
    assert heights and max(heights) <= 60, heights
    page.locator("textarea[name='summary']").scroll_into_view_if_needed()
    shot("text-boxes")
    assert page.errors == []


def both_widths(page, shot, name: str):
    """Screenshot the page at 1280 and 1920 px, asserting no horizontal scrollbar at either."""
    for width in (1280, 1920):
        page.set_viewport_size({"width": width, "height": 900})
        assert_fits(page, f"{name} at {width}px")
        shot(f"{name}-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_quotes_in_context_and_the_history_page(page, app_url, shot, login, staff, proposal, source):
    login("staff", "pw-staff-1")
    page.goto(f"{app_url}/admin/proposals/proposal/")
    expect(page.locator("#result_list")).to_contain_text("Anti-extremism treaty")
    both_widths(page, shot, "proposal-list")

    page.goto(f"{app_url}/admin/proposals/proposal/{proposal.pk}/change/")
    context = page.locator("#evidence-group .quote-context")
    expect(context).to_contain_text("At the summit, Premier Li called for the signing")
    expect(context.locator("mark")).to_have_text("Premier Li called for the signing of an anti-extremism treaty.")
    quote_box = page.locator("textarea[name='evidence-0-quote']")
    # The whole quote is visible: the box does not scroll.
    assert quote_box.evaluate("el => el.scrollHeight <= el.clientHeight + 2")
    both_widths(page, shot, "proposal-page")

    # Edit with a reason; the history shows one row with it and the change.
    page.locator("#id_title").fill("Anti-extremism convention")
    page.locator("#id_change_reason").fill("Renamed as in the 2016 communiqué")
    page.locator("input[name=_continue]").click()
    expect(page.locator(".messagelist .success")).to_be_visible()

    # The reader at that quote.
    page.locator("#evidence-group a.readerlink").first.click()
    expect(page).to_have_url(f"{app_url}/admin/proposals/source/{source.pk}/reader/#q{proposal.evidence.get().pk}")
    expect(page.locator("#reader-text mark.mark")).to_have_count(1)
    both_widths(page, shot, "source-reader")

    page.goto(f"{app_url}/admin/proposals/proposal/{proposal.pk}/history/")
    rows = page.locator("#change-history tbody tr")
    expect(rows.first.locator(".history-reason")).to_have_text("Renamed as in the 2016 communiqué; changed title")
    expect(rows.first.locator(".history-changes")).to_contain_text("Anti-extremism treaty → Anti-extremism convention")
    both_widths(page, shot, "history-page")
    assert page.errors == []


def test_issuing_a_token_shows_it_once(page, app_url, shot, login, staff, django_user_model):
    from knox.models import AuthToken

    editor = django_user_model.objects.create_user("editor", password="pw-editor-1")
    login("staff", "pw-staff-1")
    page.goto(f"{app_url}/admin/knox/authtoken/")
    page.locator(".object-tools").get_by_role("link", name="Issue a token").click()
    expect(page.locator("input[name=digest]")).to_have_count(0)
    page.locator("#id_user").select_option(label="editor")
    page.locator("#id_days").fill("30")
    shot("issue-form")
    page.get_by_role("button", name="Issue token").click()
    token = page.locator("#issued-token").input_value()
    assert len(token) >= 32
    shot("issued")
    issued = AuthToken.objects.get(user=editor)
    assert issued.token_key == token[: len(issued.token_key)]
    page.goto(f"{app_url}/admin/knox/authtoken/")
    expect(page.locator("#result_list")).to_contain_text("editor")
    assert token not in page.content()
    shot("listed")
    assert_fits(page, "token list")
    assert page.errors == []


def test_restoring_a_deleted_proposal_from_the_deleted_records(page, app_url, shot, login, staff, proposal):
    services.proposal_delete(proposal=proposal, user=staff)
    login("staff", "pw-staff-1")
    page.goto(f"{app_url}/admin/proposals/proposal/")
    page.get_by_role("link", name="Deleted records").click()
    table = page.locator("#deleted-records")
    expect(table).to_contain_text("Anti-extremism treaty")
    shot("deleted-records")
    table.get_by_role("link", name="Review and restore").click()
    expect(page.locator(".breadcrumbs")).to_contain_text("Deleted records")
    shot("review")
    page.get_by_role("button", name="Restore").first.click()
    expect(page.locator(".messagelist .success")).to_contain_text("Restored proposal “Anti-extremism treaty”")
    restored = Proposal.objects.get(slug="anti-extremism-treaty")
    assert restored.evidence.count() == 1 and restored.proponents.count() == 1
    page.goto(f"{app_url}/admin/proposals/proposal/deleted/")
    expect(page.locator("#content-main")).to_contain_text("Nothing deleted.")
    assert page.errors == []


def test_the_bulk_status_action(page, app_url, shot, login, staff, proposal, venue, source):
    import datetime as dt

    from proposals.models import Status

    other = services.proposal_create(slug="other", title="Other proposal", venue=venue, proposed_on=dt.date(2015, 1, 1))
    login("staff", "pw-staff-1")
    page.goto(f"{app_url}/admin/proposals/proposal/")
    page.locator("#action-toggle").check()
    page.locator("select[name=action]").select_option(value="add_status_event")
    page.locator("button[name=index]").click()
    expect(page.locator("#bulk-proposals li")).to_have_count(2)
    page.locator("#id_status").select_option(value=Status.STALLED)
    page.locator("#id_occurred_on").fill("2016-03-01")
    page.locator("#id_note").fill("No progress reported.")
    page.locator("#id_source").select_option(label="Sample report")
    page.locator("#id_quote").fill("A researcher said the bloc may launch a cooperative mechanism.")
    shot("form")
    assert_fits(page, "bulk form")
    page.locator("input[name=apply]").click()
    expect(page.locator(".messagelist .success")).to_contain_text("to 2 proposal(s)")
    shot("done")
    for p in (proposal, other):
        event = p.events.get(status=Status.STALLED)
        assert event.evidence.quote.startswith("A researcher said")
        p.refresh_from_db()
        assert p.status == Status.STALLED
    expect(page.locator("#result_list")).to_contain_text("Stalled")
    assert page.errors == []
