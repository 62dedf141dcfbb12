"""The admin as staff use it: signing in, filtering and searching the
proposal list, and editing a proposal's timeline and quotes through its
inlines, in a real browser with the admin's own CSS and JavaScript."""

import re

import pytest
from playwright.sync_api import expect

from proposals.models import Evidence, Status, StatusEvent

from .conftest import external_requests

pytestmark = pytest.mark.browser

CHANGELIST = "/admin/proposals/proposal/"


def open_changelist(page, app_url, query=""):
    page.goto(f"{app_url}{CHANGELIST}{query}")
    expect(page.locator("#changelist")).to_be_visible()


def result_rows(page):
    return page.locator("#result_list tbody tr")


def open_proposal(page, app_url, proposal):
    page.goto(f"{app_url}{CHANGELIST}{proposal.pk}/change/")
    expect(page.locator("#proposal_form")).to_be_visible()


def save(page):
    """ "Save and continue editing"; the POST must be answered (200 with form
    errors, or 302 back to the form), never with a server error."""
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.locator("input[name=_continue]").click()
    assert posted.value.status in (200, 302), f"the save answered {posted.value.status} {posted.value.status_text}"
    page.wait_for_load_state()


def test_login_then_filter_by_status(page, app_url, shot, staff, proposal):
    page.goto(f"{app_url}/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/"))
    shot("login-form")
    page.get_by_label("Username").fill("staff")
    page.get_by_label("Password").fill("pw-staff-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#site-name")).to_have_text("Policy-proposal tracker")
    expect(page.locator("#user-tools")).to_contain_text("staff")
    shot("signed-in")

    page.get_by_role("link", name="Proposals", exact=True).click()
    expect(result_rows(page)).to_have_count(1)
    shot("changelist")

    sidebar = page.locator("#changelist-filter")
    sidebar.get_by_role("link", name="Proposed", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]status__exact=proposed\b"))
    expect(result_rows(page)).to_have_count(1)
    expect(result_rows(page).first).to_contain_text("Anti-extremism treaty")
    expect(result_rows(page).first).to_contain_text("Proposed")
    shot("filtered-proposed")

    sidebar.get_by_role("link", name="In force / implemented", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]status__exact=in_force\b"))
    expect(page.locator("#result_list")).to_have_count(0)
    expect(page.locator("#changelist-form")).to_contain_text("0 proposals")
    shot("filtered-in-force")

    # The admin's own CSS and JavaScript were served, and are in effect.
    served = dict(page.responses)
    unanswered = dict(page.failures)
    for asset in ("admin/css/base.css", "admin/css/changelists.css", "admin/js/theme.js"):
        url = f"{app_url}/static/{asset}"
        assert served.get(url) == 200, f"{url} was not served: status {served.get(url)}, {unanswered.get(url)}"
    failed = sorted({url for url, status in page.responses if status >= 400} | set(unanswered))
    assert failed == [], f"requests that failed: {failed}"
    header_bg = page.locator("#header").evaluate("el => getComputedStyle(el).backgroundColor")
    assert header_bg not in ("rgba(0, 0, 0, 0)", "transparent"), "the admin's stylesheet is not applied"
    # Django's changelists.css puts the filters after the list (order 1, 240 px;
    # admin.css narrows them to 200 px when the navigation sidebar is open).
    order, basis = sidebar.evaluate("el => [getComputedStyle(el).order, getComputedStyle(el).flexBasis]")
    assert order == "1" and basis in ("240px", "200px"), "the changelist stylesheet is not applied"
    assert external_requests(page, app_url) == []
    assert page.errors == []


def test_status_event_through_the_inline(page, app_url, shot, login, staff, proposal):
    login("staff", "pw-staff-1")
    open_proposal(page, app_url, proposal)
    group = page.locator("#events-group")
    rows_before = group.locator("tr.form-row:not(.empty-form)").count()

    group.get_by_text("Add another Status event", exact=True).click()
    row = group.locator("tr.form-row:not(.empty-form)").last
    expect(group.locator("tr.form-row:not(.empty-form)")).to_have_count(rows_before + 1)
    row.locator("input[name$='-occurred_on']").fill("2017-06-09")
    row.locator("select[name$='-status']").select_option(label="Adopted / signed")
    row.locator("textarea[name$='-note'], input[name$='-note']").fill("Signed at the Astana summit.")
    shot("inline-filled")

    save(page)
    expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")
    expect(page.locator(".errornote")).to_have_count(0)
    expect(page.locator(".field-status_explained, .field-status").first).to_contain_text("Adopted / signed")
    shot("saved")

    event = StatusEvent.objects.get(proposal=proposal, status=Status.ADOPTED)
    assert event.recorded_by.username == "staff"
    proposal.refresh_from_db()
    assert proposal.status == Status.ADOPTED

    open_changelist(page, app_url)
    expect(result_rows(page).first).to_contain_text("Adopted / signed")
    shot("changelist")
    assert page.errors == []


def test_evidence_inline_refuses_a_quote_not_in_the_source(page, app_url, shot, login, staff, proposal, source):
    login("staff", "pw-staff-1")
    open_proposal(page, app_url, proposal)
    group = page.locator("#evidence-group")
    group.get_by_text("Add another Evidence", exact=True).click()
    row = group.locator(".inline-related:not(.empty-form)").last

    # The source is an autocomplete (select2) field: open it, type, pick.
    row.locator(".field-source .select2-selection").click()
    search = page.locator(".select2-container--open .select2-search__field")
    search.fill("Sample")
    page.locator(".select2-results__option", has_text="Sample report").click()
    expect(row.locator(".field-source .select2-selection__rendered")).to_contain_text("Sample report")
    row.locator("textarea[name$='-quote']").fill("Premier Li called for a space elevator.")
    shot("inline-filled")

    save(page)
    expect(page.locator(".errornote")).to_be_visible()
    error = page.locator("#evidence-group .errorlist")
    expect(error).to_contain_text("does not occur verbatim")
    shot("form-error")

    assert Evidence.objects.filter(proposal=proposal).count() == 1
    assert page.errors == []


def test_search_finds_a_proposal_by_its_quote(page, app_url, shot, login, staff, proposal):
    login("staff", "pw-staff-1")
    open_changelist(page, app_url)

    # "signing of an" is only in the evidence quote, not the title or summary.
    page.locator("#searchbar").fill("signing of an")
    page.locator("#changelist-search input[type=submit]").click()
    expect(page).to_have_url(re.compile(r"[?&]q=signing\+of\+an"))
    expect(result_rows(page)).to_have_count(1)
    expect(result_rows(page).first).to_contain_text("Anti-extremism treaty")
    shot("found")

    page.locator("#searchbar").fill("space elevator")
    page.locator("#searchbar").press("Enter")
    expect(page.locator("#changelist-search")).to_contain_text("0 results")
    expect(page.locator("#result_list")).to_have_count(0)
    shot("not-found")
    assert page.errors == []
