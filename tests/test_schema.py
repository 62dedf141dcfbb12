"""The OpenAPI schema is a published contract: it matches the committed
snapshot, and the schema, the docs and the browsable API are served."""

import difflib
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.management.commands.spectacular import SchemaGenerationError, SchemaValidationError

SNAPSHOT = Path(__file__).parent / "snapshots" / "openapi.yaml"
HINT = (
    "The OpenAPI schema differs from tests/snapshots/openapi.yaml. "
    "If the change is intended, run `make schema` and commit the diff."
)


@pytest.fixture(autouse=True)
def _static_files_from_the_apps(settings):
    # Serve /static/ from the apps' folders (no collectstatic), per request.
    settings.WHITENOISE_AUTOREFRESH = True
    settings.WHITENOISE_USE_FINDERS = True


def test_schema_matches_the_committed_snapshot(tmp_path):
    # The exact command `make schema` runs: valid OpenAPI, and no warnings.
    GENERATOR_STATS.reset()  # warnings from earlier generations in this process are not ours
    generated_file = tmp_path / "openapi.yaml"
    try:
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(generated_file))
    except (SchemaGenerationError, SchemaValidationError) as exc:
        pytest.fail(
            f"`manage.py spectacular --validate --fail-on-warn` failed ({exc}); "
            "its warnings and errors are in the captured stderr above. Fix them, then run `make schema`.",
            pytrace=False,
        )

    generated = generated_file.read_text(encoding="utf-8")
    committed = SNAPSHOT.read_text(encoding="utf-8")
    if generated != committed:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                generated.splitlines(keepends=True),
                fromfile="tests/snapshots/openapi.yaml (committed)",
                tofile="generated from the code",
            )
        )
        pytest.fail(f"{HINT}\n\n{diff}", pytrace=False)


def test_snapshot_documents_every_api_v1_route():
    schema = yaml.safe_load(SNAPSHOT.read_text(encoding="utf-8"))
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for route in [
        "/api/v1/proposals/",
        "/api/v1/proposals/{slug}/",
        "/api/v1/proposals/{slug}/history/",
        "/api/v1/proposals/{proposal_slug}/events/",
        "/api/v1/proposals/{proposal_slug}/evidence/",
        "/api/v1/actors/",
        "/api/v1/actors/{slug}/",
        "/api/v1/venues/",
        "/api/v1/venues/{slug}/",
        "/api/v1/sources/",
        "/api/v1/sources/{slug}/",
        "/api/v1/topics/",
        "/api/v1/topics/{slug}/",
    ]:
        assert route in paths, route
    assert set(paths["/api/v1/proposals/{slug}/"]) >= {"get", "put", "patch", "delete"}
    list_params = {p["name"] for p in paths["/api/v1/proposals/"]["get"]["parameters"]}
    assert list_params >= {
        "status",
        "venue",
        "proponent",
        "role",
        "topic",
        "party",
        "source",
        "proposed_after",
        "proposed_before",
        "updated_since",
        "q",
        "ordering",
        "page",
        "page_size",
    }
    assert set(paths["/api/v1/proposals/"]["get"]["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    assert not any(path.startswith("/api/docs") or path.startswith("/api/redoc") for path in paths)


@pytest.mark.django_db
def test_schema_endpoint_serves_yaml_and_json(client):
    as_yaml = client.get("/api/schema/")
    assert as_yaml.status_code == 200
    assert as_yaml.headers["Content-Type"] == "application/vnd.oai.openapi; charset=utf-8"
    from_yaml = yaml.safe_load(as_yaml.content)

    as_json = client.get("/api/schema/?format=json")
    assert as_json.status_code == 200
    assert as_json.headers["Content-Type"] == "application/vnd.oai.openapi+json"
    from_json = json.loads(as_json.content)

    assert from_json == from_yaml
    assert from_json["info"]["title"] == "Policy-proposal tracker API"
    assert "/api/v1/proposals/" in from_json["paths"]


def _foreign_urls(html: str) -> list[str]:
    """Absolute http(s) URLs in the page that point to another host."""
    return [url for url in re.findall(r"https?://[^\s\"'<>)]+", html) if urlsplit(url).hostname != "testserver"]


def _asset_urls(html: str) -> set[str]:
    return set(re.findall(r"(?:src|href)=\"([^\"]+)\"", html))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "expected_assets"),
    [
        (
            "/api/docs/",
            {
                "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
                "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
            },
        ),
        ("/api/redoc/", {"/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"}),
    ],
)
def test_docs_pages_use_only_local_static_assets(client, url, expected_assets):
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()

    assert _foreign_urls(html) == []
    assets = _asset_urls(html)
    assert expected_assets <= assets
    assert all(asset.startswith("/static/") for asset in assets), assets
    assert '"/api/schema/"' in html
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        b"".join(served.streaming_content) if served.streaming else served.content  # noqa: B018


@pytest.mark.django_db
def test_browsable_api_renders_html(client, proposal):
    response = client.get("/api/v1/proposals/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert "Proposal List" in html or "Proposal list" in html
    assert "anti-extremism-treaty" in html
    assert all(asset.startswith(("/static/", "/api/", "http://testserver/")) for asset in _asset_urls(html))
