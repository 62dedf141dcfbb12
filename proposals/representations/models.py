"""The data's change sequence: one counter every write batch moves, so a
list's ETag and its cached count can be derived without reading the list."""

from django.db import models


class ChangeSequence(models.Model):
    """One row (``id`` 1): ``value`` grows by one in every write batch, inside
    the batch's transaction (so it commits with the data it describes).

    Readers must read it BEFORE the data, or in the same statement (the
    list's page query carries it as a column: one snapshot): a page read
    after a commit it did not see the number of is then tagged with an
    older number, which only costs the client a 200 later, never a false
    304."""

    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "change sequence"

    def __str__(self):
        return f"change {self.value}"
