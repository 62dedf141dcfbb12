"""Helpers for the API tests: writes with If-Match, problem-JSON checks."""


def precondition(client, url: str) -> dict:
    """Headers for a PUT/PATCH/DELETE: ``If-Match`` with the record's current
    ETag when the API sends one (writes may require it), else nothing."""
    response = client.get(url)
    assert response.status_code == 200, response.content
    etag = response.headers.get("ETag")
    return {"HTTP_IF_MATCH": etag} if etag else {}


def write(client, method: str, url: str, data=None, **extra):
    """PUT, PATCH or DELETE ``url`` as JSON, with ``If-Match`` when available."""
    headers = precondition(client, url)
    return getattr(client, method.lower())(url, data, format="json", **headers, **extra)


def assert_problem(response, status: int, field: str | None = None) -> dict:
    """The response is RFC 9457 problem JSON with ``status``; when ``field``
    is given, ``errors`` names it. Returns the body."""
    assert response.status_code == status, response.content
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "about:blank"
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    if field is not None:
        fields = [error["field"] for error in body["errors"]]
        assert field in fields, body
        for error in body["errors"]:
            assert set(error) == {"field", "code", "detail"}
    return body


def error_fields(response) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]
