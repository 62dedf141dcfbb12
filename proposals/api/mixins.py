"""Viewset machinery shared by the API's resources: conditional requests
(ETag, ``If-Match``, ``If-None-Match``), change history, and deletes that
are refused while other records rely on the record.

Rules taken from RFC 9110: §8.8.3 (entity tags), §13.1.1 (``If-Match``,
strong comparison) and §13.1.2 (``If-None-Match``, weak comparison).
"""

from django.contrib.auth import get_permission_codename
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import ProtectedError, Q, RestrictedError
from django.http import Http404
from django.utils.cache import patch_vary_headers
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import services
from .errors import Conflict, PreconditionFailed, PreconditionRequired
from .filters import MAX_ID
from .serializers import HistoryEntrySerializer


def etag_for(instance) -> str:
    """A strong ETag, ``"<id>-<version>"``. The version moves with every
    change to anything the record's representation shows (the services'
    write batches see to it), so equal tags mean equal bytes."""
    return f'"{instance.pk}-{instance.version}"'


def _parse_tags(header: str) -> list[tuple[bool, str]]:
    """``If-Match``/``If-None-Match`` as ``[(weak, opaque_tag)]``; ``*`` is
    kept as ``(False, "*")``. Malformed members are skipped."""
    tags = []
    for member in header.split(","):
        member = member.strip()
        if not member:
            continue
        weak = member[:2] == "W/"
        if weak:
            member = member[2:].strip()
        tags.append((weak, member))
    return tags


def if_match_passes(header: str, current: str) -> bool:
    """RFC 9110 §13.1.1: ``*`` or a listed tag equal to ``current`` by
    *strong* comparison (a weak tag never matches)."""
    return any(tag == "*" or (not weak and tag == current) for weak, tag in _parse_tags(header))


def if_none_match_hits(header: str, current: str) -> bool:
    """RFC 9110 §13.1.2: ``*`` or a listed tag equal to ``current`` by
    *weak* comparison (``W/"1-2"`` matches ``"1-2"``: proxies that compress
    a response weaken its tag)."""
    return any(tag in ("*", current) for _weak, tag in _parse_tags(header))


def check_if_match(request, instance) -> None:
    """Raise 412 when the request sends ``If-Match`` and it names no
    current tag of ``instance`` (which the caller has locked)."""
    header = request.headers.get("If-Match")
    if header is not None and not if_match_passes(header, etag_for(instance)):
        raise PreconditionFailed()


class ConditionalWriteMixin:
    """Optimistic concurrency for a versioned resource.

    Reads and writes return a strong ``ETag``; ``If-None-Match`` naming the
    current tag (weak comparison, lists and ``*`` included) gets 304.
    ``PUT``, ``PATCH`` and ``DELETE`` must send ``If-Match``: without it 428,
    with a stale tag 412 and nothing changes. The check runs on the row
    locked with ``SELECT … FOR UPDATE`` inside the write's transaction, so of
    two racing writers holding the same tag exactly one wins.
    """

    conditional_writes = True

    def get_object(self):
        if self.request.method not in ("PUT", "PATCH", "DELETE"):
            return super().get_object()
        if_match = self.request.headers.get("If-Match")
        if_none_match = self.request.headers.get("If-None-Match")
        if not if_match:
            # Still 404 first for a record that does not exist.
            super().get_object()
            raise PreconditionRequired()
        lookup = {self.lookup_field: self.kwargs[self.lookup_url_kwarg or self.lookup_field]}
        queryset = self.filter_queryset(self.get_queryset())
        # Lock the row with a plain query on its own table, then read it
        # through the view's queryset. Locking the view's queryset itself
        # fails on PostgreSQL when it aggregates ("FOR UPDATE is not allowed
        # with GROUP BY clause": Source annotates its evidence count), and
        # the related rows are read, not written, so they need no lock.
        # DRF's get_object_or_404: a malformed id ("abc") is a 404, not a 500.
        locked = queryset.model._base_manager.select_for_update().values_list("pk", flat=True)
        generics.get_object_or_404(locked, **lookup)
        obj = generics.get_object_or_404(queryset, **lookup)
        self.check_object_permissions(self.request, obj)
        if not if_match_passes(if_match, etag_for(obj)):
            raise PreconditionFailed()
        if if_none_match and if_none_match_hits(if_none_match, etag_for(obj)):
            # RFC 9110 §13.1.2: on a state-changing method, a matching
            # If-None-Match fails the precondition.
            raise PreconditionFailed("If-None-Match names the record's current ETag, so the write was not made.")
        return obj

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        tag = etag_for(instance)
        if_match = request.headers.get("If-Match")
        if if_match is not None and not if_match_passes(if_match, tag):
            raise PreconditionFailed()  # RFC 9110 §13.1.1 applies to reads too
        if if_none_match_hits(request.headers.get("If-None-Match", ""), tag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": tag})
        return Response(self.get_serializer(instance).data, headers={"ETag": tag})

    def perform_create(self, serializer):
        super().perform_create(serializer)
        self._etag = etag_for(serializer.instance)

    def perform_update(self, serializer):
        super().perform_update(serializer)
        instance = serializer.instance
        instance.version = type(instance).objects.filter(pk=instance.pk).values_list("version", flat=True).get()
        self._etag = etag_for(instance)

    def create(self, request, *args, **kwargs):
        with transaction.atomic():
            response = super().create(request, *args, **kwargs)
        response["ETag"] = self._etag
        return response

    def update(self, request, *args, **kwargs):
        with transaction.atomic():
            response = super().update(request, *args, **kwargs)
        response["ETag"] = self._etag
        return response

    def destroy(self, request, *args, **kwargs):
        with transaction.atomic():
            return super().destroy(request, *args, **kwargs)


class SlugOrIdLookupMixin:
    """Address a record by its slug (``/actors/li-keqiang/``), as NetBox
    and the proposals and topics do; for links made before slugs were the
    address, a number that is no record's slug is taken as the record's id
    (``/actors/7/``). A slug always wins over an id, so a record whose slug
    is all digits stays reachable by it.

    The id is resolved to the slug once, before the handler runs, so
    everything downstream (ETags, row locks, history) sees one lookup."""

    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    accepts_id_for_slug = True  # documented on the path parameter (proposals.api.schema)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        value = self.kwargs.get(self.lookup_field)
        if value is None or not value.isdigit() or int(value) > MAX_ID:
            return
        model = self.get_queryset().model
        slugs = list(model._base_manager.filter(Q(slug=value) | Q(pk=int(value))).values_list("slug", flat=True)[:2])
        if slugs and value not in slugs:
            self.kwargs[self.lookup_field] = slugs[0]


class ProtectedDeleteMixin:
    """Deletes go through ``services.record_delete``; one refused because
    proposals still rely on the record is a 409 that says why."""

    def perform_destroy(self, instance):
        try:
            services.record_delete(instance=instance, user=self.request.user)
        except (ProtectedError, RestrictedError) as exc:
            # str(): a model without an explicit verbose_name_plural has a lazy
            # translation proxy there, which ", ".join() refuses (TypeError, a 500).
            blockers = (
                {str(obj._meta.verbose_name_plural) for obj in exc.protected_objects}
                if hasattr(exc, "protected_objects")
                else set()
            )
            raise Conflict(
                f"This {instance._meta.verbose_name} is still referenced by "
                f"{', '.join(sorted(blockers)) or 'other records'}; remove those references first."
            ) from exc


def may_change(user, model) -> bool:
    """Whether ``user`` holds the change permission for ``model`` (editors do)."""
    opts = model._meta
    return bool(user and user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}"))


class HistoryMixin:
    """``GET …/{id}/history/``: who changed the record, when, and how.

    Usernames are shown to editors only; everyone sees each change's time,
    kind, differences and the author's role. The history outlives the
    record: once it is deleted, editors still read its history at the same
    URL, ending with the deletion. Everyone else gets the 404 a record that
    never existed gets, so deletions are not disclosed.
    """

    @extend_schema(
        summary="Change history of {noun}",
        description=(
            "Every saved version of the {noun}, newest first: the kind of change, its time, field-level "
            "differences, the "
            "reason (e.g. `status event added: stalled, 2016-03-01`) and the author's `role` (`staff`, "
            "`editor` or `system`). `user` (a username) is shown only to editors; it is null for everyone else. "
            "For a deleted record, editors still get its history, the deletion first; others get 404."
        ),
        responses={200: HistoryEntrySerializer(many=True)},
        filters=False,
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request, *args, **kwargs):
        try:
            records = self.get_object().history.all()
        except Http404:
            records = self._deleted_record_history()
            if records is None:
                raise
        model = self.get_queryset().model
        entries = services.history_entries(records, show_users=may_change(request.user, model))
        response = Response(HistoryEntrySerializer(entries, many=True).data)
        # The body depends on who asks; shared caches must not mix them up.
        patch_vary_headers(response, ["Authorization", "Cookie"])
        return response

    def _deleted_record_history(self):
        """The history rows of the deleted record the URL names, for users
        with the model's change permission; ``None`` when there is none or
        the user may not see it. A slug reused since the deletion names the
        live record (served above), not this one."""
        model = self.get_queryset().model
        opts = model._meta
        if not may_change(self.request.user, model):
            return None
        field = opts.pk.attname if self.lookup_field == "pk" else self.lookup_field
        value = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        lookups = [{field: value}]
        if getattr(self, "accepts_id_for_slug", False) and value.isdigit() and int(value) <= MAX_ID:
            lookups.append({opts.pk.attname: int(value)})  # the slug first, then the id (SlugOrIdLookupMixin)
        deletion = None
        for lookup in lookups:
            try:
                deletion = (
                    model.history.filter(**lookup, history_type="-")
                    .order_by("-history_date", "-history_id")
                    .values_list(opts.pk.attname, flat=True)
                    .first()
                )
            except (TypeError, ValueError, DjangoValidationError):
                return None  # e.g. a non-numeric id
            if deletion is not None:
                break
        if deletion is None or model._base_manager.filter(pk=deletion).exists():
            return None
        return model.history.filter(**{opts.pk.attname: deletion})
