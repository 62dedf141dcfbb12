"""Alias matching for the proposal list's ``q`` search.

A proposal is found by an alias when the whole query matches one alias of
the proposal itself, of an actor that proposed it, is party to it or acted
on it (participation), of its venue, or of one of its topics: ``q=李克强``
finds Li Keqiang's proposals once the actor has that alias, and
``q=SCO Convention on Countering Extremism`` finds the anti-extremism
treaty once the proposal has it. The query is matched against each alias
as a whole (not split across an alias and a title), the same way on both
databases:

* PostgreSQL: the alias's ``to_tsvector('english', name)`` against the same
  ``websearch`` query as the full-text search (stemmed; a run of Chinese
  characters is one word);
* SQLite: every word of the query (quotes and ``or`` dropped, ``-word``
  ignored here) as a whole word of the alias, case-insensitive, unstemmed.

Matching costs one query (``search_with_aliases``), whatever the page size.

Also here: ranking through a RUM index where the server has one
(``rum_ranked``, migration 0014; the API's ``search`` decides).
"""

import re
from typing import NamedTuple

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection, connections
from django.db.models import Exists, F, FloatField, Func, OuterRef, Q, QuerySet, Value
from django.db.models.sql.datastructures import BaseTable

from ..models import Proponent, Proposal
from .models import ActorAlias, Participation, ProposalAlias, TopicAlias, VenueAlias


def _words(text: str) -> list[str]:
    words = []
    for word in text.split():
        word = word.strip("\"'")
        if word and word.lower() != "or" and not word.startswith("-"):
            words.append(word)
    return words


def _matching(model, text: str, query: SearchQuery | None) -> QuerySet | None:
    """Aliases of ``model`` the query matches, or ``None`` when it has no word."""
    if query is not None:
        return model.objects.annotate(_document=SearchVector("name", config="english")).filter(_document=query)
    words = _words(text)
    if not words:
        return None
    aliases = model.objects.all()
    for word in words:
        # Django's SQLite backend implements REGEXP with Python's re (Unicode \b).
        aliases = aliases.filter(name__iregex=rf"(^|\W){re.escape(word)}($|\W)")
    return aliases


class AliasMatches(NamedTuple):
    """What the aliases say about a query: ``ids`` of the proposals it finds
    through an alias, and whether a proposal may have an alias equal to the
    whole query (``exact``: ``exact_alias_first`` then has work to do; true
    when not looked up, for a query without a word)."""

    ids: list[int]
    exact: bool


def _alias_rows(text: str) -> QuerySet | None:
    """``(proposal id, exact)`` rows, as one ``UNION`` subquery: the
    proposals ``text`` finds through an alias (see the module docstring),
    ``exact`` false, and those with an alias equal to the whole text,
    ``exact`` true; ``None`` when the text has no word to look for."""
    query = SearchQuery(text, search_type="websearch", config="english") if connection.vendor == "postgresql" else None
    proposal_aliases = _matching(ProposalAlias, text, query)
    if proposal_aliases is None:
        return None
    actors = _matching(ActorAlias, text, query).order_by().values("actor_id")
    venues = _matching(VenueAlias, text, query).order_by().values("venue_id")
    topics = _matching(TopicAlias, text, query).order_by().values("topic_id")

    def rows(queryset, column, exact=False):
        # order_by(): no ORDER BY inside a compound statement (SQLite refuses it).
        return queryset.order_by().annotate(_exact=Value(exact)).values_list(column, "_exact")

    # The exact ones are flagged, not found: the text or another alias must
    # find them; the flag only puts them first (``exact_alias_first``).
    exact = ProposalAlias.objects.filter(name__iexact=text.strip())
    return rows(proposal_aliases, "proposal_id").union(
        rows(Proposal.objects.filter(venue_id__in=venues), "pk"),
        rows(Proponent.objects.filter(actor_id__in=actors), "proposal_id"),
        rows(Participation.objects.filter(party_id__in=actors), "proposal_id"),
        rows(Proposal.parties.through.objects.filter(actor_id__in=actors), "proposal_id"),
        rows(Proposal.topics.through.objects.filter(topic_id__in=topics), "proposal_id"),
        rows(exact, "proposal_id", exact=True),
    )


#: Stands for the query text in the alias statement compiled once per
#: process (``_alias_statement``). A NUL: no query text can contain one
#: (PostgreSQL refuses it, and so does the ``q`` filter).
SENTINEL = "\x00alias query\x00"
_statements: dict[str, tuple[str, list]] = {}


def _alias_statement(using: str) -> tuple[str, list]:
    """PostgreSQL's ``_alias_rows`` statement and its parameters, with
    ``SENTINEL`` for the text: built and compiled by the ORM once per
    process. Building and compiling the seven-part ``UNION`` cost ~3 ms
    of Python per search (profiled at 1M proposals), more than running it."""
    statement = _statements.get(using)
    if statement is None:
        sql, params = _alias_rows(SENTINEL).query.sql_with_params()
        statement = _statements[using] = (sql, list(params))
    return statement


def alias_matches(text: str, using: str = "default") -> AliasMatches:
    """The proposals ``text`` finds through an alias and whether an alias
    equals it, in one query; no query when the text has no word to look
    for (no ids, and ``exact`` true: not known)."""
    if connections[using].vendor == "postgresql" and text == text.strip():
        sql, params = _alias_statement(using)
        with connections[using].cursor() as cursor:
            cursor.execute(sql, [text if param == SENTINEL else param for param in params])
            rows = cursor.fetchall()
    else:
        rows = _alias_rows(text)
    if rows is None:
        return AliasMatches([], True)
    ids, exact = set(), False
    for pk, is_exact in rows:
        if is_exact:
            exact = True
        else:
            ids.add(pk)
    return AliasMatches(sorted(ids), exact)


def search_with_aliases(queryset: QuerySet, text_match: Q, text: str, aliases: AliasMatches | None = None) -> QuerySet:
    """``queryset`` narrowed to the proposals the text search matches
    (``text_match``, a ``Q`` over proposals) or an alias matches
    (``aliases``, from ``alias_matches``; read here when not given).

    The alias matches are read first, in one query over the small alias
    tables (and the links of the matched actors, venues and topics), and
    joined to the text match as a list of ids: on PostgreSQL
    ``search_vector @@ q OR id IN (…ids)`` is then a ``BitmapOr`` of the
    search index (RUM, or GIN without the extension) and the primary key. Measured on 100,000 synthetic proposals
    (an ad-hoc timing, 2 busy cores): ``q=extradition`` count + first page
    9.6 ms before aliases, 13.2 ms with them (best of 7); joining the two
    as one ``UNION`` subquery instead made PostgreSQL hash-join the whole
    table (~115 ms).
    """
    ids = (aliases if aliases is not None else alias_matches(text)).ids
    return queryset.filter(text_match | Q(pk__in=ids)) if ids else queryset.filter(text_match)


def exact_alias_first(queryset: QuerySet, text: str, *then: str) -> QuerySet:
    """``queryset`` ordered with the proposals that have an alias equal to
    ``text`` (case-insensitive, whole) first, then by ``then``: a query
    that is exactly a recorded name of a proposal ("SCO Convention on
    Countering Extremism") finds that proposal first, whatever the text
    ranking says of other titles sharing its words. Same query, one
    ``EXISTS`` more."""
    exact = Exists(ProposalAlias.objects.filter(proposal_id=OuterRef("pk"), name__iexact=text.strip()))
    return queryset.annotate(exact_alias=exact).order_by("-exact_alias", *then)


# --------------------------------------------------------------------------
# Ranking through the RUM index
# --------------------------------------------------------------------------

#: The RUM index over ``search_vector`` (migration 0014), when the server has
#: the extension.
RUM_INDEX = "proposal_search_vector_rum"
#: Attribute of a Django connection caching whether its database has the
#: RUM index: read once per connection (``rum_index_present``), forgotten
#: when it reconnects or migrates. Setting it to ``False`` on a connection
#: is the switch to the ``ts_rank`` path (the tests use it).
RUM_FLAG = "proposals_rum_index"


class SearchDistance(Func):
    """RUM's ``search_vector <=> query``: the distance of a document to a
    ``tsquery``, a float, smaller is more relevant. For one word, or words
    joined by ``or``, it is ``1 / ts_rank`` (same weights: the same order);
    words that must all appear, phrases and exclusions RUM ranks with its
    own formula (at 1M: the same title matches first, the order among them
    can differ from ``ts_rank``'s)."""

    arg_joiner = " <=> "
    template = "(%(expressions)s)"
    output_field = FloatField()


#: The annotation ``rum_ranked`` orders by; the derived table's column.
RANK = "rank"
RANK_COLUMN = "search_rank"


class RankedProposals(BaseTable):
    """The proposals table in ``FROM``, replaced, when the query orders by
    ``rank`` first, with the matches in the RUM index's order::

        (SELECT *, search_vector <=> q AS search_rank FROM proposals_proposal
          WHERE search_vector @@ q ORDER BY search_rank OFFSET 0) proposals_proposal

    Why: PostgreSQL 15 takes an index's order only when it covers the whole
    ``ORDER BY`` (``rank, id DESC`` is not), but it does take a subquery's
    order as the presorted prefix of an incremental sort. So the page is
    the index scan in rank order, an incremental sort by id within equal
    ranks, then the ``LIMIT``: only the rows up to the page's last rank are
    read. (``OFFSET 0`` keeps the subquery a subquery.) Any other query
    over it (the count, another ``ordering``, the alias path) compiles to
    the plain table."""

    def __init__(self, table_name, alias, text: str):
        super().__init__(table_name, alias)
        self.text = text

    def active(self, compiler) -> bool:
        return tuple(compiler.query.order_by[:1]) == (RANK,)

    def as_sql(self, compiler, connection):
        if not self.active(compiler):
            return super().as_sql(compiler, connection)
        table = compiler.quote_name_unless_alias(self.table_name)
        query = "websearch_to_tsquery('english'::regconfig, %s)"
        sql = (
            f"(SELECT *, search_vector <=> {query} AS {RANK_COLUMN} FROM {table} "
            f"WHERE search_vector @@ {query} ORDER BY {RANK_COLUMN} OFFSET 0) "
            # Quoted as Django quotes this alias elsewhere (a subquery's "U0" is not).
            f"{compiler.quote_name_unless_alias(self.table_alias)}"
        )
        return sql, [self.text, self.text]

    def relabeled_clone(self, change_map):
        return self.__class__(self.table_name, change_map.get(self.table_alias, self.table_alias), self.text)

    @property
    def identity(self):
        return (*super().identity, self.text)


class RumRank(Func):
    """The ``rank`` annotation over ``RankedProposals``: its ``search_rank``
    column when the table is the ranked subquery (so the ``ORDER BY`` is
    the subquery's order), else the distance computed on the row."""

    template = "%(expressions)s"
    output_field = FloatField()

    def as_sql(self, compiler, connection, **extra):
        distance = self.get_source_expressions()[0]
        column = distance.get_source_expressions()[0]
        table = compiler.query.alias_map.get(getattr(column, "alias", None))
        if isinstance(table, RankedProposals) and table.active(compiler):
            return f"{compiler.quote_name_unless_alias(column.alias)}.{RANK_COLUMN}", []
        return compiler.compile(distance)


def rum_ranked(queryset: QuerySet, text: str) -> QuerySet:
    """``queryset`` (of proposals, already narrowed to those the text
    search ``text`` matches) annotated with ``rank`` (RUM's distance, a
    float, ascending is best) and ordered by it, then by id descending,
    read in the RUM index's order (``RankedProposals``). Needs the
    extension (``rum_index_present``); other filters apply on top."""
    query = SearchQuery(text, search_type="websearch", config="english")
    ranked = queryset.annotate(**{RANK: RumRank(SearchDistance(F("search_vector"), query))}).order_by(RANK, "-id")
    base = ranked.query.get_initial_alias()
    ranked.query.unref_alias(base)
    table = ranked.query.alias_map[base]
    ranked.query.alias_map[base] = RankedProposals(table.table_name, table.table_alias, text)
    return ranked


def rum_index_present(connection) -> bool:
    """Whether ``connection``'s database has the RUM index; one catalog
    query on the first call per connection, then the cached answer."""
    present = getattr(connection, RUM_FLAG, None)
    if present is None:
        if connection.vendor != "postgresql":
            present = False
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [RUM_INDEX])
                present = bool(cursor.fetchone()[0])
        setattr(connection, RUM_FLAG, present)
    return present


def forget_rum_index(sender=None, connection=None, using=None, **kwargs) -> None:
    """Signal receiver (``connection_created``, ``post_migrate``): the next
    search on that connection looks for the index again."""
    if connection is None and using is not None:
        connection = connections[using]
    if connection is not None and hasattr(connection, RUM_FLAG):
        delattr(connection, RUM_FLAG)
