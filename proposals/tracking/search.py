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

The result is a ``Q`` over proposals built from ``EXISTS``/``IN``
subqueries: no extra query, whatever the page size.
"""

import re

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

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


def alias_match(text: str) -> Q:
    """Proposals that ``text`` finds through an alias (see the module
    docstring); ``Q(pk__in=[])`` when the text has no word to look for."""
    query = SearchQuery(text, search_type="websearch", config="english") if connection.vendor == "postgresql" else None
    proposal_aliases = _matching(ProposalAlias, text, query)
    if proposal_aliases is None:
        return Q(pk__in=[])
    actors = _matching(ActorAlias, text, query).values("actor_id")
    venues = _matching(VenueAlias, text, query).values("venue_id")
    topics = _matching(TopicAlias, text, query).values("topic_id")
    through_parties = Proposal.parties.through.objects.filter(proposal_id=OuterRef("pk"), actor_id__in=actors)
    through_topics = Proposal.topics.through.objects.filter(proposal_id=OuterRef("pk"), topic_id__in=topics)
    return (
        Q(pk__in=proposal_aliases.values("proposal_id"))
        | Q(venue_id__in=venues)
        | Q(Exists(Proponent.objects.filter(proposal_id=OuterRef("pk"), actor_id__in=actors)))
        | Q(Exists(Participation.objects.filter(proposal_id=OuterRef("pk"), party_id__in=actors)))
        | Q(Exists(through_parties))
        | Q(Exists(through_topics))
    )
