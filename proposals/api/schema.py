"""OpenAPI generation: every operation documents the errors it can return
(RFC 9457 problem details) and the conditional-request headers it takes.

Out of the box drf-spectacular documents only success responses, so clients
and contract tests (schemathesis) would meet undocumented 4xx codes. The
codes each kind of operation adds are listed once here.
"""

from django.conf import settings
from django.contrib.auth import get_permission_codename
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

PROBLEM_MEDIA_TYPE = "application/problem+json"

#: A real slug from the seed corpus per kind of record, for path parameter docs.
EXAMPLE_SLUGS = {
    "proposal": "sco-anti-extremism-treaty",
    "actor": "li-keqiang",
    "venue": "sco-summit-2015-zhengzhou",
    "source": "fu-2014-seeking-common-ground",
    "topic": "terror-financing",
}


class ProblemFieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The field at fault, dotted for nested ones; `non_field_errors` otherwise.")
    code = serializers.CharField(help_text="A stable machine-readable code, e.g. `required`, `invalid_choice`.")
    detail = serializers.CharField(help_text="What was wrong, for people.")


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField(help_text="Always `about:blank`: the status code says what kind of problem it is.")
    title = serializers.CharField(help_text="The HTTP status phrase.")
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = ProblemFieldErrorSerializer(many=True, required=False, help_text="Present on validation errors.")


ERROR_DESCRIPTIONS = {
    "400": "Invalid input: malformed JSON, a bad filter or field value. `errors` names each field.",
    "401": "Authentication needed (send `Authorization: Token <token>`, or sign in).",
    "403": "Signed in, but not allowed to do this.",
    "404": "No such record (or page).",
    "406": "None of the media types in `Accept` can be served.",
    "409": "Refused because other records still refer to this one.",
    "412": "`If-Match` does not match the record's current ETag: someone changed it since you read it.",
    "413": "The request body is larger than the documented cap (1 MiB by default).",
    "415": "Unsupported `Content-Type`; send `application/json`.",
    "428": "`If-Match` is required: send the ETag you last read, so you cannot overwrite a change blindly.",
    "429": "Too many requests; retry after the number of seconds in `Retry-After`.",
    "503": "The database is unavailable; retry after the number of seconds in `Retry-After`.",
}

IF_MATCH = OpenApiParameter(
    "If-Match",
    location=OpenApiParameter.HEADER,
    required=True,
    type=str,
    description="The `ETag` from your last read of this record. Required: without it the write is refused with 428; "
    "with a stale one, 412.",
)
IF_MATCH_PART = OpenApiParameter(
    "If-Match",
    location=OpenApiParameter.HEADER,
    required=False,
    type=str,
    description="Optional: the proposal's `ETag` from your last read. When sent and stale, the write is refused "
    "with 412 and nothing changes (strong comparison, RFC 9110 §13.1.1).",
)
IF_MATCH_PROPOSAL = OpenApiParameter(
    "If-Match",
    location=OpenApiParameter.HEADER,
    required=True,
    type=str,
    description="The proposal's `ETag` from your last read (a part has no tag of its own). Required: without it "
    "the write is refused with 428; with a stale one, 412 (strong comparison, RFC 9110 §13.1.1).",
)
PROPOSAL_ETAG_HEADER = {
    "X-Proposal-ETag": {
        "schema": {"type": "string"},
        "description": "The proposal's new `ETag`, since adding this part changed its representation.",
    }
}
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    location=OpenApiParameter.HEADER,
    required=False,
    type=str,
    description="One or more `ETag`s you hold (or `*`); if one is current the answer is 304 with no body. "
    'Compared weakly (RFC 9110 §13.1.2), so `W/"1-2"` matches `"1-2"`.',
)
ETAG_HEADER = {
    "ETag": {
        "schema": {"type": "string"},
        "description": "Strong validator of this record's current version; send it back in `If-Match` to write.",
    }
}


FORMAT_DESCRIPTION = (
    "`csv`: the CSV export of every matching proposal, not paginated (the same as `Accept: text/csv`); "
    "`json` (the default): JSON. Any other value is a 404."
)


TOKEN_HOW_TO = (
    "Send `Authorization: Token <token>`. Tokens are issued by staff to an editor's account with "
    "`manage.py issue_token USERNAME` (`make token FOR=USERNAME` on a development checkout), are shown once, "
    "expire after `API_TOKEN_TTL_DAYS` (90 by default) and are revoked in the admin (Knox › Auth tokens). "
    "Reading needs no token unless the deployment sets `API_READ_REQUIRES_AUTH`."
)


class KnoxTokenScheme(OpenApiAuthenticationExtension):
    """django-rest-knox's token scheme, with how to get a token: the docs'
    "Authorize" dialog is where a client developer looks for it."""

    target_class = "knox.auth.TokenAuthentication"
    name = "knoxApiToken"
    priority = 1  # over drf-spectacular's built-in knox extension

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization", "description": TOKEN_HOW_TO}


PERMISSION_ACTIONS = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}


class ProblemAutoSchema(AutoSchema):
    def _model(self):
        """The operation's model, from its serializer (a proposal part's
        queryset needs the URL's slug); ``None`` for views without one (the
        sign-out endpoints)."""
        get_serializer_class = getattr(self.view, "get_serializer_class", None)
        if get_serializer_class is None:
            return None
        try:
            meta = getattr(get_serializer_class(), "Meta", None)
        except AssertionError:  # a view without a serializer (the citation)
            meta = None
        if meta is not None:
            return meta.model
        # Views of computed shapes (the change feed, versions) name a model for the permission class.
        queryset = getattr(self.view, "queryset", None)
        return queryset.model if queryset is not None else None

    def get_auth(self):
        # Public reads need no credentials: the empty requirement `{}` says
        # so, and Swagger UI stops showing a lock on them.
        auth = super().get_auth()
        if self.method == "GET" and not settings.API_READ_REQUIRES_AUTH and auth and {} not in auth:
            auth.append({})
        return auth

    def _who_may_call(self) -> str:
        if self.method == "GET":
            if getattr(self.view, "who_may_read", None):
                return f"**Who may call it:** {self.view.who_may_read}"
            if settings.API_READ_REQUIRES_AUTH:
                return "**Who may call it:** any signed-in user or token holder (this deployment requires sign-in)."
            return "**Who may call it:** anyone; no token needed."
        model = self._model()
        if model is None:
            return (
                "**Who may call it:** the holder of a valid token (`Authorization: Token <token>`); without one: 401."
            )
        opts = model._meta
        codename = get_permission_codename(PERMISSION_ACTIONS[self.method], opts)
        return (
            f"**Who may call it:** editors: users holding the `{opts.app_label}.{codename}` permission (the "
            "Editors group does), authenticated by token (`Authorization: Token <token>`) or by a session "
            "(the browsable API, with its CSRF token). Anonymous: 401; signed in without the permission: 403."
        )

    def _errors_text(self) -> str:
        lines = [f"* `{code}`: {ERROR_DESCRIPTIONS[code]}" for code in self._error_codes()]
        return "**Errors** (RFC 9457 problem details, `application/problem+json`):\n\n" + "\n".join(lines)

    def _path_parameter_description(self, name: str) -> str | None:
        if name == "proposal_slug":
            return "The proposal's slug, e.g. `sco-anti-extremism-treaty`."
        if name in ("id", "pk"):
            return f"The {self._model()._meta.verbose_name} row's `id`, as listed under the proposal."
        if name != "slug":
            return None
        noun = self._model()._meta.verbose_name
        text = f"The {noun}'s slug, its stable address, e.g. `{EXAMPLE_SLUGS.get(noun, 'a-slug')}`."
        if getattr(self.view, "accepts_id_for_slug", False):
            text += f" A number that is no {noun}'s slug is taken as the {noun}'s `id` (older links)."
        return text

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return operation
        # Texts shared by several resources (the history action) name theirs.
        model = self._model()
        if model is not None:
            noun = str(model._meta.verbose_name)
            for key in ("summary", "description"):
                if key in operation:
                    operation[key] = operation[key].replace("{noun}", noun)
        # Every operation's text says what it does (its own description),
        # who may call it and its errors, for a reader of that one operation.
        operation["description"] = "\n\n".join(
            part for part in (operation.get("description", ""), self._who_may_call(), self._errors_text()) if part
        )
        if getattr(self.view, "query_allows_empty", False):
            # The change feed, versions, cite: an empty value is "not given" there too.
            _allowing_empty(operation.get("parameters", []))
        for parameter in operation.get("parameters", []):
            if parameter.get("description"):
                continue
            if parameter["in"] == "path":
                description = self._path_parameter_description(parameter["name"])
            elif parameter["in"] == "query" and parameter["name"] == "format":
                description = FORMAT_DESCRIPTION
            else:
                description = None
            if description:
                parameter["description"] = description
        return operation

    def _versioned(self) -> bool:
        return bool(getattr(self.view, "conditional_writes", False))

    def _is_detail(self) -> bool:
        return "{" in self.path

    def _proposal_part_write(self) -> bool:
        """POST to a proposal's events or evidence: honours If-Match."""
        return self.method == "POST" and "{proposal_slug}" in self.path

    def _proposal_part_item_write(self) -> bool:
        """PUT, PATCH or DELETE of one proposal part (a participation row):
        needs If-Match with the proposal's ETag."""
        return getattr(self.view, "part_conditional_writes", False) and self.method in ("PUT", "PATCH", "DELETE")

    def get_override_parameters(self):
        params = list(super().get_override_parameters())
        if self._versioned() and self.method in ("PUT", "PATCH", "DELETE"):
            params.append(IF_MATCH)
        if self._versioned() and self.method == "GET" and self._is_detail() and not self.path.endswith("history/"):
            params.append(IF_NONE_MATCH)
        if self._proposal_part_write():
            params.append(IF_MATCH_PART)
        if self._proposal_part_item_write():
            params.append(IF_MATCH_PROPOSAL)
        return params

    def _get_filter_parameters(self):
        return _allowing_empty(super()._get_filter_parameters())

    def _get_pagination_parameters(self):
        return _allowing_empty(super()._get_pagination_parameters())

    def _get_format_parameters(self):
        return _allowing_empty(super()._get_format_parameters())

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        if not getattr(field, "allow_blank", False) or schema.get("type") != "string":
            return
        # A blank-allowed string skips its validators when blank (DRF returns
        # "" before running them, as Django does), so "" is valid whatever
        # pattern or format the validators imply; say so, or clients and
        # contract tests reject what the API sends and accepts:
        # Actor.country_code is "" for all but states (pattern ^[A-Z]{2}$)
        # and Source.url is "" when unknown (format uri).
        if "pattern" in schema:
            schema["pattern"] = f"^$|{schema['pattern']}"
        if "format" in schema:
            schema["anyOf"] = [{"format": schema.pop("format")}, {"maxLength": 0}]

    def _error_codes(self) -> list[str]:
        codes = ["401", "403", "406", "429", "503"]
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["400", "413", "415"]
        if self.method == "GET" and self._is_list_view():
            codes.append("400")
        if self._is_detail() or (self.method == "GET" and self._is_list_view()):
            codes.append("404")
        if self._versioned() and self.method in ("PUT", "PATCH", "DELETE"):
            codes += ["412", "428"]
        if self.method == "DELETE":
            codes.append("409")
        if self._proposal_part_write():
            codes.append("412")
        if self._proposal_part_item_write():
            codes += ["412", "428"]
        # Views whose parameters the rules above cannot see (the change feed,
        # versions, ?as_of=) name their own: a list, or a dict by action.
        extra = getattr(self.view, "extra_error_codes", ())
        if isinstance(extra, dict):
            extra = extra.get(getattr(self.view, "action", None), ())
        codes += list(extra)
        return sorted(set(codes))

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code in responses:
                continue
            response = self._get_response_for_code(ProblemSerializer, code, media_types=[PROBLEM_MEDIA_TYPE])
            response["description"] = ERROR_DESCRIPTIONS[code]
            responses[code] = response
        if self._versioned() and (self._is_detail() or self.method == "POST") and not self.path.endswith("history/"):
            for code in ("200", "201"):
                if code in responses:
                    responses[code].setdefault("headers", {}).update(ETAG_HEADER)
            if self.method == "GET" and self._is_detail():
                responses["304"] = {"description": "Not modified: your `If-None-Match` ETag is current."}
        if self._proposal_part_write() and "201" in responses:
            responses["201"].setdefault("headers", {}).update(PROPOSAL_ETAG_HEADER)
        if self._proposal_part_item_write():
            for code in ("200", "204"):
                if code in responses:
                    responses[code].setdefault("headers", {}).update(PROPOSAL_ETAG_HEADER)
        return responses


class ThrottledKnoxTokenScheme(KnoxTokenScheme):
    """The schema's ``knoxApiToken`` scheme for the project's knox subclass
    (proposals.api.authentication), which drf-spectacular does not match by itself."""

    target_class = "proposals.api.authentication.TokenAuthentication"


def _allowing_empty(parameters: list[dict]) -> list[dict]:
    """Query parameters of lists take an empty value, meaning "not given"
    (``?status=``, as an HTML form sends it; ``format=`` is the default;
    ``cursor=`` starts a walk):
    OpenAPI 3.0's ``allowEmptyValue``, so clients and contract tests know
    ``?kind=`` is not an enum violation."""
    for parameter in parameters:
        if parameter.get("in") == "query":
            parameter["allowEmptyValue"] = True
    return parameters
