"""One error format for the whole API: RFC 9457 problem details.

Every 4xx and 5xx from ``/api/`` is ``application/problem+json``::

    {"type": "about:blank", "title": "Bad Request", "status": 400,
     "detail": "The request has invalid fields.",
     "errors": [{"field": "quote", "code": "invalid", "detail": "..."}]}

``errors`` is present for validation failures; ``field`` names the field
(dotted for nested ones, e.g. ``proponents.0.role``; ``non_field_errors`` for
the request as a whole).
"""

import sys
from http import HTTPStatus

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler, set_rollback

PROBLEM_CONTENT_TYPE = "application/problem+json"
DB_UNAVAILABLE_DETAIL = "The database is unavailable. Try again shortly."
DB_UNAVAILABLE_HEADERS = {"Retry-After": "5"}


def problem(status_code: int, detail: str, errors=None) -> dict:
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status_code).phrase,
        "status": status_code,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return body


def flatten_errors(detail, prefix: str = "") -> list[dict]:
    """Turn DRF's nested error structure into a flat list naming each field."""
    out = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key in (api_settings.NON_FIELD_ERRORS_KEY, NON_FIELD_ERRORS):
                # Errors about an object as a whole. At the top level they are
                # "non_field_errors", also when a model's ``full_clean`` said
                # "__all__" (e.g. a duplicate evidence span). A nested object's
                # own error (e.g. "topics": "x", not a list) belongs to that
                # field: "topics", not "topics.non_field_errors".
                name = prefix or api_settings.NON_FIELD_ERRORS_KEY
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            out.extend(flatten_errors(value, name))
    elif isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail | str) for item in detail):
            for item in detail:
                out.append(
                    {
                        "field": prefix or "non_field_errors",
                        "code": getattr(item, "code", "invalid"),
                        "detail": str(item),
                    }
                )
        else:
            for index, item in enumerate(detail):
                if item:
                    out.extend(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out.append(
            {"field": prefix or "non_field_errors", "code": getattr(detail, "code", "invalid"), "detail": str(detail)}
        )
    return out


def problem_exception_handler(exc, context):
    """DRF's handler, reshaped into problem details; model ``ValidationError``s
    from services become 400s, and a lost database connection becomes 503."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, SuspiciousOperation):
        # e.g. more than DATA_UPLOAD_MAX_NUMBER_FIELDS query parameters: the
        # client's 400, said plainly (DRF would re-raise it, and with DEBUG
        # on crash while describing it).
        exc = exceptions.ParseError(str(exc))
    elif isinstance(exc, OperationalError | InterfaceError):
        set_rollback()
        return _problem_response(
            problem(503, DB_UNAVAILABLE_DETAIL),
            status.HTTP_503_SERVICE_UNAVAILABLE,
            context,
            headers=DB_UNAVAILABLE_HEADERS,
        )
    elif isinstance(exc, DataError | IntegrityError):
        # The request's data broke a database rule that validation did not
        # catch (e.g. a race past a unique check). Other database errors are
        # the server's own and stay 5xx.
        set_rollback()
        return _problem_response(problem(400, "The database refused the request's data."), 400, context)

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        body = problem(response.status_code, "The request has invalid fields.", flatten_errors(exc.detail))
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else str(response.data)
        body = problem(response.status_code, str(detail))
    response.data = body
    if _wants_json(context):
        response.content_type = PROBLEM_CONTENT_TYPE
    return response


def _wants_json(context) -> bool:
    request = context.get("request")
    renderer = getattr(request, "accepted_renderer", None)
    # The browsable API renders errors as HTML for people; clients get problem JSON.
    return renderer is None or getattr(renderer, "format", "json") != "api"


def _problem_response(body, status_code, context, headers=None):
    response = Response(body, status=status_code, headers=headers)
    if _wants_json(context):
        response.content_type = PROBLEM_CONTENT_TYPE
    return response


def json_error_view(status_code: int):
    """A plain Django view for errors raised outside DRF (unknown URL, crash)."""

    def view(request, exception=None):
        # A lost database can also surface outside DRF's exception handler:
        # while a response renders (the browsable API's filter form queries
        # the database, the auth context processor loads the session) or in
        # middleware. Django calls handler500 inside its ``except`` block, so
        # the exception is still in sys.exc_info(): answer 503 + Retry-After
        # like the DRF handler does, not a 500 (tests/test_db_faults.py).
        if status_code == 500 and _is_database_unavailable(sys.exc_info()[1]):
            return JsonResponse(
                problem(503, DB_UNAVAILABLE_DETAIL),
                status=503,
                content_type=PROBLEM_CONTENT_TYPE,
                headers=DB_UNAVAILABLE_HEADERS,
            )
        return JsonResponse(
            problem(status_code, HTTPStatus(status_code).description),
            status=status_code,
            content_type=PROBLEM_CONTENT_TYPE,
        )

    return view


def _is_database_unavailable(exc) -> bool:
    """``exc`` or an exception it was raised from/during is a lost connection."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, OperationalError | InterfaceError):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


# --------------------------------------------------------------------------
# The API's own exceptions (rendered by the handler above)
# --------------------------------------------------------------------------


class Conflict(exceptions.APIException):
    """409: the record is still referenced (a protected delete)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The record is still referenced by other records."
    default_code = "conflict"


class PreconditionRequired(exceptions.APIException):
    """428 (RFC 6585 §3): a replacing write came without ``If-Match``."""

    status_code = 428
    default_detail = (
        "This write needs an If-Match header with the ETag you last read, so it cannot overwrite a change blindly."
    )
    default_code = "precondition_required"


class PreconditionFailed(exceptions.APIException):
    """412 (RFC 9110 §13.1.1): ``If-Match`` names no current tag."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The record changed since you read it (If-Match does not match its ETag). Read it again."
    default_code = "precondition_failed"
