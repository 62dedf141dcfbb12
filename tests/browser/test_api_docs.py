"""The API docs as a reader sees them: Swagger UI and Redoc, rendered by a
real browser from the app's own static files, with nothing fetched from
any other host (the docs must work offline and leak no visits to CDNs)."""

import pytest
from playwright.sync_api import expect

from .conftest import CSP_REFUSED, external_requests

pytestmark = pytest.mark.browser

#: The one outside request tolerated, and only if the browser refuses it
#: under the docs' Content-Security-Policy (``DOCS_CSP`` in tracker/urls.py):
#: Redoc's bundle hard-codes the Redocly logo in its side menu. Should the
#: CSP go, the request would leave the machine and the Redoc test fails.
REFUSED_BY_CSP_OK = {"https://cdn.redoc.ly/redoc/logo-mini.svg" + CSP_REFUSED}


def test_swagger_ui_lists_operations_and_runs_them_offline(page, app_url, shot, proposal):
    page.goto(f"{app_url}/api/docs/")
    assert_nothing_fetched_from_elsewhere(page, app_url)  # the page's own assets, checked as soon as loaded
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Policy-proposal tracker API")

    # The proposals operations are listed under their tag…
    listing = page.locator("#operations-proposals-proposals_list")
    expect(listing).to_be_visible()
    expect(listing.locator(".opblock-summary-path")).to_have_text("/api/v1/proposals/")
    expect(listing.locator(".opblock-summary-description")).to_have_text("List proposals")
    expect(page.locator("#operations-proposals-proposals_create")).to_be_visible()
    shot("operations-listed", full_page=False)

    # …and expand to show their parameters.
    listing.locator(".opblock-summary-control").click()
    expect(listing.locator(".opblock-body")).to_be_visible()
    expect(listing.locator(".parameters")).to_contain_text("page")
    shot("list-expanded", listing)

    # "Try it out" → "Execute" calls the live API and shows its answer.
    listing.get_by_role("button", name="Try it out").click()
    listing.get_by_role("button", name="Execute").click()
    live = listing.locator(".live-responses-table tr.response")
    expect(live.locator(".response-col_status")).to_have_text("200")
    expect(live.locator(".response-col_description")).to_contain_text('"slug": "anti-extremism-treaty"')
    expect(listing.locator(".request-url")).to_contain_text(f"{app_url}/api/v1/proposals/")
    shot("list-executed", listing)

    assert page.errors == [], f"uncaught errors in the page: {page.errors}"
    assert_nothing_fetched_from_elsewhere(page, app_url)
    assert f"{app_url}/api/v1/proposals/" in page.requests, "Execute did not call the API"


def test_redoc_renders_the_reference_offline(page, app_url, shot, proposal):
    page.goto(f"{app_url}/api/redoc/")
    assert_nothing_fetched_from_elsewhere(page, app_url)
    expect(page.locator("h1")).to_contain_text("Policy-proposal tracker API")
    for title in ("List proposals", "Get a proposal", "Add a status event", "List actors"):
        expect(operation_heading(page, title)).to_be_visible()
    shot("reference", full_page=False)

    # The side menu works: opening a tag, then picking an operation, scrolls to it.
    page.locator('[role=menuitem][aria-label="sources"]').click()
    page.locator('[role=menuitem][aria-label="Get a source"]').click()
    expect(operation_heading(page, "Get a source")).to_be_in_viewport()
    shot("menu-navigation", full_page=False)

    assert page.errors == [], f"uncaught errors in the page: {page.errors}"
    assert_nothing_fetched_from_elsewhere(page, app_url)


def assert_nothing_fetched_from_elsewhere(page, app_url):
    """No request to another host, nor any attempt the CSP had to refuse
    (a CDN URL in the settings is a bug even when the CSP stops it)."""
    outside = [url for url in external_requests(page, app_url) if url not in REFUSED_BY_CSP_OK]
    assert outside == [], f"the docs page requested from another host: {outside}"


def operation_heading(page, title):
    # Redoc's <h2> also holds an anchor labelled with the operation's path, so
    # its accessible name is not the title alone; match the visible text.
    return page.locator(f'h2:text-is("{title}")')
