"""Sequence numbers for history rows, so the history tables form one log.

How a row gets its number
-------------------------
Every historical model has :class:`ChangeLogged` among its bases
(``HistoricalRecords(bases=[...])``). A row written inside a write batch
(``services.write_batch``, the one write path) gets a provisional negative
number, counting down in the order the rows were written. When the batch
ends, still inside its transaction, :func:`seal` locks the single
:class:`ChangeCounter` row (``SELECT … FOR UPDATE``), turns the provisional
numbers into ``counter + k`` with one ``UPDATE`` per table touched, and
moves the counter on. The lock is held until the transaction commits, so
a second writing transaction gets its numbers only after the first has
committed: commit order is sequence order, and a client that has read up
to ``N`` can never later see a row numbered below ``N`` appear (the hazard
of numbering from a database sequence inside concurrent transactions).
The lock is taken last, when the batch has taken every row lock it needs,
so it cannot close a deadlock cycle; it is held for the few milliseconds
between the end of the batch and its commit (writes here are at curation
speed). SQLite serialises writers anyway.

A row written outside a batch (a raw ``instance.save()`` in a shell or a
test) is numbered at once, the same way.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from django.db import connections, models, router
from django.db.models import F
from django.dispatch import Signal

#: Sent when a write batch's changes got their numbers, still inside its
#: transaction (``last_seq``: the highest; ``using``: the database alias).
#: Webhooks listen, to dispatch once the transaction commits.
changes_sealed = Signal()

#: What a change-logged history row carries besides simple-history's columns.
SEQ_HELP = "Position in the change feed: one increasing sequence over every history table."


class ChangeCounter(models.Model):
    """The last ``change_seq`` handed out (one row, id 1). Its row lock
    orders the commits of writing transactions; see the module docstring."""

    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "change counter"

    def __str__(self):
        return f"change counter at {self.value}"


class _Pending:
    """History rows written by the current batch, waiting for their numbers."""

    def __init__(self):
        self.count = 0
        self.models: dict[type, list] = {}
        self.links_dirty: set[int] = set()

    def provisional(self, model) -> int:
        self.count += 1
        self.models.setdefault(model, [])
        return -self.count


_pending: contextvars.ContextVar[_Pending | None] = contextvars.ContextVar("change_log_pending", default=None)


class ChangeLoggedQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        fresh = [obj for obj in objs if obj.change_seq is None]
        if fresh and _pending.get() is None:
            # Outside a batch (bulk loads): one reservation for them all.
            last = _reserve(len(fresh), self.db)
            for index, obj in enumerate(fresh):
                obj.change_seq = last - len(fresh) + 1 + index
                obj.batch_end_seq = last
        else:
            for obj in fresh:
                _number(obj, self.db)
        return super().bulk_create(objs, *args, **kwargs)


class ChangeLogged(models.Model):
    """Columns every history table gets, for the change feed.

    - ``change_seq``: the row's place in the feed (see module docstring);
    - ``batch_end_seq``: the ``change_seq`` of the last row its write batch
      wrote; the state a proposal's version shows is every table as of it;
    - ``changed_fields``: for an update, the names of the fields it changed
      (``version`` and ``updated_at`` included when they moved), recorded by
      the services as they write; ``null`` for creates and deletes, and for
      rows written before the feed existed.
    """

    change_seq = models.BigIntegerField(null=True, db_index=True, editable=False, help_text=SEQ_HELP)
    batch_end_seq = models.BigIntegerField(null=True, editable=False)
    changed_fields = models.JSONField(null=True, blank=True, editable=False)

    objects = ChangeLoggedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self._state.adding and self.change_seq is None:
            _number(self, kwargs.get("using") or router.db_for_write(type(self)))
        super().save(*args, **kwargs)


def _number(row, using: str) -> None:
    if row.change_seq is not None:
        return
    pending = _pending.get()
    if pending is not None:
        row.change_seq = pending.provisional(type(row))
        return
    seq = _reserve(1, using)
    row.change_seq = row.batch_end_seq = seq


def _reserve(count: int, using: str) -> int:
    """Move the counter on by ``count`` under its row lock (held until the
    transaction ends); return its new value, the last number reserved."""
    with connections[using].cursor() as cursor:
        table = ChangeCounter._meta.db_table
        cursor.execute(f"UPDATE {table} SET value = value + %s WHERE id = 1 RETURNING value", [count])  # noqa: S608
        row = cursor.fetchone()
        if row is None:
            # The row is made by migration 0009; a test database flushed by
            # a TransactionTestCase loses it. Start again after the highest
            # number any history row holds.
            start = max((_max_seq(model, using) for model in change_logged_models()), default=0)
            ChangeCounter.objects.using(using).bulk_create([ChangeCounter(id=1, value=start)], ignore_conflicts=True)
            cursor.execute(f"UPDATE {table} SET value = value + %s WHERE id = 1 RETURNING value", [count])  # noqa: S608
            row = cursor.fetchone()
    return row[0]


def _max_seq(model, using) -> int:
    return model._default_manager.using(using).aggregate(m=models.Max("change_seq"))["m"] or 0


def change_logged_models() -> list[type[models.Model]]:
    """Every historical model with the change-feed columns."""
    from django.apps import apps

    return [m for m in apps.get_app_config("proposals").get_models() if issubclass(m, ChangeLogged)]


@contextlib.contextmanager
def recording(using: str = "default") -> Iterator[_Pending]:
    """Collect the history rows a write batch writes, and number them when
    the block ends without an exception (still inside the transaction)."""
    pending = _Pending()
    token = _pending.set(pending)
    try:
        yield pending
    except BaseException:
        _pending.reset(token)
        raise
    _pending.reset(token)
    seal(pending, using)


def rows_written() -> int:
    """How many history rows the current write batch has written so far (0
    outside a batch): a batch that wrote none changed nothing."""
    pending = _pending.get()
    return pending.count if pending is not None else 0


def mark_links_changed(proposal_id: int) -> None:
    """A proposal's topics or parties changed in the current batch: its
    history rows of this batch must record the new ids (see ``seal``)."""
    pending = _pending.get()
    if pending is not None:
        pending.links_dirty.add(proposal_id)


def seal(pending: _Pending, using: str = "default") -> None:
    """Give the batch's rows their numbers: ``provisional -k`` becomes
    ``base + k``, in the order written. One ``UPDATE`` per table touched.
    Then record the topic and party ids on the proposal rows that need them
    (creations, restores, and rows of a batch that changed those links), so
    a version can be rebuilt with them."""
    if not pending.count:
        return
    last = _reserve(pending.count, using)
    base = last - pending.count
    for model in pending.models:
        model._default_manager.using(using).filter(change_seq__lt=0).update(
            change_seq=base - F("change_seq"), batch_end_seq=last
        )
    _record_links(pending, base, last, using)
    changes_sealed.send(sender=ChangeCounter, last_seq=last, using=using)


def _record_links(pending: _Pending, base: int, last: int, using: str) -> None:
    from ..models import Proposal

    history = Proposal.history.model
    if history not in pending.models:
        return
    rows = list(
        history._default_manager.using(using)
        .filter(change_seq__gt=base, change_seq__lte=last)
        .exclude(history_type="-")
        .filter(models.Q(history_type="+") | models.Q(id__in=pending.links_dirty))
        .only("history_id", "id", "links")
    )
    if not rows:
        return
    ids = {row.id for row in rows}
    links = {pk: {"topics": [], "parties": []} for pk in ids}
    for name in ("topics", "parties"):
        through = Proposal._meta.get_field(name).remote_field.through
        column = "topic_id" if name == "topics" else "actor_id"
        for proposal_id, target in (
            through.objects.using(using).filter(proposal_id__in=ids).values_list("proposal_id", column)
        ):
            links[proposal_id][name].append(target)
    for row in rows:
        row.links = {name: sorted(values) for name, values in links[row.id].items()}
    history._default_manager.using(using).bulk_update(rows, ["links"], batch_size=500)


def copy_changed_fields(sender, instance, history_instance, **kwargs):
    """``pre_create_historical_record`` receiver: the services set
    ``_changed_fields`` on an instance they update (``record_save``)."""
    names = getattr(instance, "_changed_fields", None)
    if names is not None and isinstance(history_instance, ChangeLogged) and history_instance.history_type == "~":
        history_instance.changed_fields = list(names)


def links_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """``m2m_changed`` receiver for a proposal's topics and parties."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        mark_links_changed(instance.pk)
    else:
        for pk in pk_set or ():
            mark_links_changed(pk)
