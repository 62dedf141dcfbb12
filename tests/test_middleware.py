"""Request bodies and response headers the framework leaves to us:
chunked bodies (read or refused, never dropped) and the Content-Security-Policy
of the admin and the browsable API. The same bodies through real gunicorn
and nginx: tests/test_prod_stack.py."""

import io
import json

import pytest

from proposals.models import Topic
from tracker.middleware import STRICT_CSP
from tracker.urls import DOCS_CSP

TOPICS = "/api/v1/topics/"


def _post_chunked(client, body: bytes, *, server_dechunks: bool = True):
    """POST ``body`` as a WSGI server hands over a chunked request: no
    CONTENT_LENGTH, ``Transfer-Encoding: chunked``, the de-chunked bytes
    in wsgi.input, and ``wsgi.input_terminated`` when the server marks
    their end (gunicorn does)."""
    extra = {
        "CONTENT_LENGTH": "",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(body),
    }
    if server_dechunks:
        extra["wsgi.input_terminated"] = True
    return client.generic("POST", TOPICS, b"", content_type="application/json", **extra)


def test_a_chunked_json_body_is_read(editor_api):
    response = _post_chunked(editor_api, json.dumps({"slug": "chunked", "name": "Chunked"}).encode())
    assert response.status_code == 201, response.content
    assert Topic.objects.get(slug="chunked").name == "Chunked"


def test_a_chunked_body_over_the_cap_is_refused_with_413(editor_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = json.dumps({"slug": "big", "name": "x" * 200}).encode()
    response = _post_chunked(editor_api, body)
    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/problem+json"
    assert not Topic.objects.filter(slug="big").exists()


def test_a_chunked_body_the_server_cannot_end_is_refused_with_411(editor_api):
    body = json.dumps({"slug": "unended", "name": "Unended"}).encode()
    response = _post_chunked(editor_api, body, server_dechunks=False)
    assert response.status_code == 411
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "Content-Length" in response.json()["detail"]
    assert not Topic.objects.filter(slug="unended").exists()


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/admin/login/", {}),
        ("/api/v1/proposals/", {"HTTP_ACCEPT": "text/html"}),
    ],
)
def test_the_admin_and_the_browsable_api_send_a_strict_csp(client, db, path, headers):
    response = client.get(path, **headers)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    csp = response.headers["Content-Security-Policy"]
    assert csp == STRICT_CSP
    script_src = next(part for part in csp.split("; ") if part.startswith("script-src"))
    assert script_src == "script-src 'self'", "no inline or eval'd script"
    assert "object-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp


def test_the_api_docs_keep_their_own_policy(client, db):
    assert client.get("/api/docs/").headers["Content-Security-Policy"] == DOCS_CSP


def test_json_answers_need_no_policy(client, db):
    response = client.get("/api/v1/proposals/", HTTP_ACCEPT="application/json")
    assert "Content-Security-Policy" not in response.headers
