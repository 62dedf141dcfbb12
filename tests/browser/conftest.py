"""Fixtures for the browser tests: Debian's Chromium driven by Playwright
against pytest-django's ``live_server``.

* The browser is found at ``$BROWSER_TEST_CHROMIUM``, ``/usr/bin/chromium`` or
  on ``PATH``. Without one the tests SKIP, loudly (a warning plus the skip
  reason); with ``CI`` set they FAIL instead, since CI always has Chromium.
  Playwright's own browser download is never used.
* The browser reaches the live server as ``http://tracker.test:<port>``, not
  ``localhost``: some front-end code (Swagger UI's validator badge, for one)
  behaves differently on localhost, and the pages must be tested as a real
  deployment serves them.
* Every request the page makes is recorded (``page.requests``) so a test can
  prove a page loads nothing from another host, nor even tries to (such
  requests are also refused, so the pages run as they would offline, and a
  hanging CDN cannot slow the run), and every response
  (``page.responses``) and request that got none (``page.failures``) so it
  can prove static files were served.
* Screenshots go to ``test-artifacts/screenshots/<module>--<test>--<NN>-<step>.png``
  at the repository root (git-ignored); a failing test also leaves a
  ``…--99-FAILED.png`` and the page's HTML next to it.
"""

import os
import re
import shutil
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"

#: The host name the browser uses for the live server (mapped to it below).
APP_HOST = "tracker.test"

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

#: Playwright waits and ``expect`` assertions give up after this (ms); a broken page fails fast.
TIMEOUT_MS = 10_000


class BrowserTestsSkipped(UserWarning):
    """Raised as a warning so a run without Chromium cannot look green by accident."""


def find_chromium() -> str | None:
    candidates = [
        os.environ.get("BROWSER_TEST_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


# --------------------------------------------------------------------------
# Failure reports reach the fixtures (for the failure screenshot)
# --------------------------------------------------------------------------

_reports_key = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    item.stash.setdefault(_reports_key, {})[report.when] = report
    return report


# --------------------------------------------------------------------------
# The browser
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium_path():
    path = find_chromium()
    if path is None:
        reason = (
            "NO CHROMIUM FOUND: browser tests NOT RUN. Install Debian's `chromium` package "
            "or point BROWSER_TEST_CHROMIUM at a Chromium binary."
        )
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI is set, where Chromium is required.)", pytrace=False)
        warnings.warn(reason, BrowserTestsSkipped, stacklevel=1)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module")
def browser(chromium_path, live_server):
    from playwright.sync_api import expect, sync_playwright

    port = urlsplit(live_server.url).port
    # Playwright's sync API keeps an asyncio loop running in this thread, so
    # Django's ORM (fixtures, assertions on the database) would refuse to run
    # here; allow it only while the browser is up.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(
                executable_path=chromium_path,
                headless=True,
                args=[*LAUNCH_ARGS, f"--host-resolver-rules=MAP {APP_HOST} 127.0.0.1"],
            )
            expect.set_options(timeout=TIMEOUT_MS)
            launched.app_url = f"http://{APP_HOST}:{port}"
            yield launched
            launched.close()


@pytest.fixture
def app_url(browser, settings):
    """The live server's URL as the browser sees it (``http://tracker.test:<port>``)."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, APP_HOST]
    return browser.app_url


@pytest.fixture
def page(request, browser, app_url, transactional_db):
    """A fresh browser context and page, recording requests, responses and errors.

    ``transactional_db`` is requested explicitly (``live_server`` needs it
    anyway) so pytest-django orders these tests after the ones that run inside
    a transaction.
    """
    test_id = _test_id(request.node)
    for stale in SCREENSHOTS.glob(f"{test_id}--*"):
        stale.unlink()

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    new_page = context.new_page()
    new_page.request_log = []  # every request, by any page of the context
    new_page.requests = []  # their URLs
    new_page.responses = []  # (url, status)
    new_page.failures = []  # (url, error text): requests that got no response at all
    new_page.errors = []  # uncaught exceptions in the page

    def on_request(req):
        new_page.request_log.append(req)
        new_page.requests.append(req.url)

    context.on("request", on_request)
    # Nothing leaves the machine: requests to other hosts are recorded above,
    # then refused, so the pages are tested as they work offline (and a
    # hanging CDN cannot slow the run down).
    context.route(re.compile(rf"^(?!{re.escape(app_url)}/)(https?|wss?)://"), lambda route: route.abort())
    context.on("response", lambda resp: new_page.responses.append((resp.url, resp.status)))
    context.on("requestfailed", lambda req: new_page.failures.append((req.url, req.failure)))
    new_page.on("pageerror", lambda exc: new_page.errors.append(str(exc)))

    yield new_page

    reports = request.node.stash.get(_reports_key, {})
    if any(report.failed for report in reports.values()):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        try:
            new_page.screenshot(path=SCREENSHOTS / f"{test_id}--99-FAILED.png", full_page=True)
            (SCREENSHOTS / f"{test_id}--99-FAILED.html").write_text(new_page.content(), encoding="utf-8")
        except Exception as exc:  # the page may be what broke; keep the original failure
            warnings.warn(f"could not save the failure screenshot: {exc}", stacklevel=1)
    context.close()


@pytest.fixture
def shot(request, page):
    """``shot("step-name")`` saves a full-page screenshot, numbered in step order;
    ``shot("step-name", locator)`` saves just that element, and
    ``full_page=False`` just the viewport (the docs pages are very long, and
    a full-page shot of one takes seconds)."""
    test_id = _test_id(request.node)
    counter = iter(range(1, 99))

    def take(step: str, locator=None, *, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{test_id}--{next(counter):02d}-{_slug(step)}.png"
        if locator is None:
            page.screenshot(path=path, full_page=full_page)
        else:
            locator.screenshot(path=path)
        return path

    return take


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


def _test_id(node) -> str:
    module = Path(node.path).stem
    return _slug(f"{module}--{node.name}")


# --------------------------------------------------------------------------
# Helpers shared by the tests
# --------------------------------------------------------------------------


def external_requests(page, app_url: str) -> list[str]:
    """Every request the page made, or tried to make, to anywhere but the app,
    as URLs; one the page's Content-Security-Policy refused is marked
    ``" (refused by CSP)"``. ``data:`` and ``blob:`` URLs are local."""
    outside = []
    for req in page.request_log:
        if req.url.startswith((f"{app_url}/", "data:", "blob:")) or req.url == app_url:
            continue
        outside.append(req.url + (CSP_REFUSED if req.failure == "csp" else ""))
    return outside


#: Suffix :func:`external_requests` puts on a URL the browser refused under the page's CSP.
CSP_REFUSED = " (refused by CSP)"


@pytest.fixture
def login(page, app_url):
    """Signs in through the admin's login form."""

    def sign_in(username: str, password: str):
        page.goto(f"{app_url}/admin/login/?next=/admin/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{app_url}/admin/")

    return sign_in
