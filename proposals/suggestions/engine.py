"""The suggestion engine: reads a source's text and finds what it says
about proposals, offline and deterministically.

Pure Python over a ``Knowledge`` snapshot (proposal titles, aliases and
quotes; actor names and aliases), so it runs without the database and the
same text and knowledge always give the same suggestions. The service layer
(``proposals.suggestions.services``) builds the snapshot and stores results.

The pipeline, per sentence (sentences from pysbd, the rule-based
"Golden Rules" segmenter):

1. **Triggers.** Declarative tables of the language of proposals and
   commitments (``PROPOSAL_RULES``: "calls upon", "urges", "proposed",
   "called for", "decides that", modal "should/can/need to + cooperate,
   establish..."), and of events in an instrument's life (``EVENT_RULES``:
   signature, ratification, acceptance, approval, accession, entry into
   force, reservation, withdrawal, support, opposition).
2. **Which proposal.** Content words of every proposal title and alias are
   matched against the sentence with rapidfuzz (so "extremist" meets
   "extremism"; legal-instrument nouns such as treaty/convention/agreement
   count as one word, see ``EQUIVALENTS``), and whole evidence quotes by
   rapidfuzz's ratio. A sentence that names no proposal but describes an
   event falls back on the document's main proposal (the one its sentences
   match best), with lower confidence.
3. **Who.** Actor names and aliases found in the sentence; states not yet
   recorded as actors are found through ISO 3166 names (pycountry) and kept
   as written.
4. **When.** Date expressions are found by pattern, then parsed by
   dateparser with ``RELATIVE_BASE`` set to the source's publication date,
   past dates preferred, English only; relative ones ("on Tuesday", "last
   month") carry a note saying what they were resolved against.

Offsets count Unicode code points (Python ``str`` indices) and every
``Found.quote == text[start:end]``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from collections import defaultdict

import pycountry
import pysbd
from dateparser.date import DateDataParser
from rapidfuzz import fuzz, process

# --------------------------------------------------------------------------
# What the engine knows and what it returns
# --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class KnownProposal:
    """A proposal as the matcher sees it: ``names`` are its title and
    aliases, ``quotes`` its evidence quotes, ``spans`` the ``(source_id,
    start, end)`` of those quotes (a sentence already quoted as its evidence
    is not suggested again)."""

    pk: int
    slug: str
    names: tuple[str, ...]
    quotes: tuple[str, ...] = ()
    spans: frozenset = frozenset()


@dataclasses.dataclass(frozen=True)
class KnownActor:
    """An actor with its name and aliases; ``kind`` as ``Actor.kind``,
    ``country_code`` its ISO 3166-1 alpha-2 code for states."""

    pk: int
    slug: str
    names: tuple[str, ...]
    kind: str
    country_code: str = ""


@dataclasses.dataclass
class Knowledge:
    proposals: list[KnownProposal]
    actors: list[KnownActor]


@dataclasses.dataclass
class Found:
    """One suggestion, before it is stored. ``start``/``end`` are code-point
    offsets of ``quote`` in the text; ``proposal`` is a ``KnownProposal``
    pk (None for ``new_proposal``); ``party``/``proponent`` an actor pk,
    with ``*_name`` the name as written."""

    kind: str
    start: int
    end: int
    quote: str
    proposal: int | None = None
    alternatives: list[dict] = dataclasses.field(default_factory=list)
    title: str = ""
    status: str = ""
    action: str = ""
    occurred_on: dt.date | None = None
    precision: str = ""
    date_note: str = ""
    party: int | None = None
    party_name: str = ""
    proponent: int | None = None
    proponent_name: str = ""
    confidence: float = 0.0
    explanation: str = ""


# --------------------------------------------------------------------------
# Rule tables
# --------------------------------------------------------------------------

#: Verbs of doing something about a problem, after a modal ("should
#: cooperate", "can jointly crack down") or "efforts to" / "ready to".
ACTION_VERBS = (
    r"cooperate|collaborate|work|establish|set\s+up|create|form|build|construct|promote|strengthen|reinforce|"
    r"deepen|expand|improve|launch|halt|stop|cut|crack\s+down|clamp\s+down|make\s+efforts?|reach|play|help|"
    r"consider|adopt|sign|ratify|list|designate|fight|combat|counter|prevent|provide|carry\s+out|develop|"
    r"facilitate|contain|eliminate|bust|destroy|share|coordinate|hold|conduct|organi[sz]e|negotiate|conclude|"
    r"join|support|ban|freeze|extradite|prosecute|train|assist|tackle|address|uproot|counteract|enhance|boost"
)
_ADVERBS = r"(?:\s+(?:also|jointly|closely|further|together|actively|fully|still|now|then|first|not|better|\w+ly)){0,3}"
_MODAL = r"\b(?:should|must|need(?:s|ed)?\s+to|ought\s+to|can|could|may\s+hope\s+to|hopes?\s+to|would\s+like\s+to)"

#: (name, pattern, strength): the language of proposing and committing, as
#: found in news items, communiqués, op-eds and resolutions (the operative
#: verbs of UN resolutions: "calls upon", "urges", "decides", "requests",
#: "encourages", "recommends").
PROPOSAL_RULES = [
    ("call", r"\bcall(?:s|ed|ing)?\s+(?:for|on|upon)\b|\bappeal(?:s|ed)?\s+(?:to|for)\b", 0.85),
    ("urge", r"\burg(?:e|es|ed|ing)\b", 0.85),
    ("propose", r"\bpropos(?:e|es|ed|ing|al|als)\b|\bsuggest(?:s|ed|ing)?\b", 0.85),
    ("recommend", r"\brecommend(?:s|ed|ing|ation|ations)?\b|\badvocat(?:e|es|ed|ing)\b", 0.8),
    ("decide", r"\bdecide[sd]?\s+(?:that|to)\b|\bresolve[sd]?\s+(?:that|to)\b", 0.85),
    ("request", r"\brequest(?:s|ed)?\b|\binvit(?:es|ed)\b|\bencourag(?:es|ed)\b|\bdemand(?:s|ed)?\b", 0.7),
    ("commit", r"\bpledg(?:e|es|ed)\b|\bvow(?:s|ed)?\b|\bcommit(?:s|ted)?\s+to\b|\bagreed\s+to\b", 0.75),
    ("announce", r"\bunveil(?:s|ed)?\b|\bannounc(?:e|es|ed)\b|\binitiative\b", 0.7),
    ("modal", _MODAL + _ADVERBS + r"\s+(?:(?:" + ACTION_VERBS + r")\b|be(?:\s+\w+ly)?\s+\w+ed\b)", 0.6),
    (
        "intent",
        r"\b(?:efforts?|ready|willing|plans?|aims?|seeks?|seeking)\s+to" + _ADVERBS + r"\s+(?:" + ACTION_VERBS + r")\b",
        0.55,
    ),
    (
        "institution",
        r"\b(?:setting\s+up|establishing|establishment\s+of|creation\s+of|organi[sz]ing|building)\b[^.;]{0,80}?"
        r"\b(?:mechanisms?|rules?|basis|exercises?|bod(?:y|ies)|cent(?:re|er)s?|structures?|forums?|partnerships?|"
        r"organi[sz]ations?|coalitions?)\b",
        0.5,
    ),
    (
        "practice",
        r"\b(?:has|have)\s+(?:been\s+)?(?:held|organi[sz]ed|conducted|established|set\s+up|launched|created)\b",
        0.5,
    ),
]

#: (action, pattern, status): events in an instrument's life. ``action``
#: is a ``PartyAction`` for a party's participation; ``status`` the
#: proposal status the event gives the whole instrument ("" for none).
EVENT_RULES = [
    ("signed", r"\bsign(?:ed|s|ing|ature|atures)\b(?!\s+up)", "adopted"),
    ("ratified", r"\bratif(?:ied|ies|y|ying|ication|ications)\b", ""),
    ("acceded", r"\bacced(?:ed|es|ing)\b|\baccession\b", ""),
    (
        "entered_into_force",
        r"\b(?:enter(?:ed|s|ing)?|c[oa]me|comes|coming|brought|bring|brings)\s+into\s+force\b|\bentry\s+into\s+force\b"
        r"|\b(?:took|takes)\s+effect\b",
        "in_force",
    ),
    ("approved", r"\bapprov(?:ed|al)\b", ""),
    ("accepted", r"\baccept(?:ed|ance)\b", ""),
    ("reservation", r"\breservations?\b", ""),
    ("withdrew", r"\bwithdr(?:ew|awn|awal)\b|\bpulled\s+out\b", ""),
    ("supported", r"\b(?:supported|backed|endorsed)\b", ""),
    ("opposed", r"\b(?:opposed|objected\s+to)\b", ""),
    ("", r"\badopted\b", "adopted"),
]

#: Actions a party takes on a treaty: only states are parties to those.
TREATY_ACTIONS = {
    "signed",
    "ratified",
    "acceded",
    "entered_into_force",
    "approved",
    "accepted",
    "reservation",
    "withdrew",
}

#: An event word after one of these is not (yet) an event: "will sign",
#: "expected to ratify", "called for the signing of".
NOT_YET = re.compile(
    r"\b(?:will|would|shall|should|could|can|may|might|must|to|expected|plans?|hopes?|intends?|"
    r"call(?:s|ed|ing)?\s+for|urg(?:e|es|ed)|propos(?:e|es|ed))(?:\s+\S+){0,3}\s*$",
    re.IGNORECASE,
)

#: Words that say the same thing in titles and in news copy. Each group is
#: matched as one word; the names of legal instruments vary most.
EQUIVALENTS = [
    {"treaty", "treaties", "convention", "conventions", "agreement", "agreements", "accord", "pact", "charter"},
    {"anti", "counter", "countering", "counterterrorism", "combating", "combatting", "against", "fighting"},
    {"sco", "shanghai cooperation organisation", "shanghai cooperation organization"},
    {"us", "u.s", "united states", "america", "american"},
]
STOPWORDS = set(
    "a an and the of on in to for by with from at as or its their his her our be is are was were this that "
    "these those it into under over between among new such".split()
)
_WORD = re.compile(r"[^\W_]+(?:[.'’-][^\W_]+)*", re.UNICODE)

MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
    r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
WEEKDAYS = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_ORD = r"(?:st|nd|rd|th)?"
#: Where dates are: candidates found by pattern, then parsed by dateparser
#: (dateparser's own search guesses at every "may" and "on").
DATE_PATTERN = re.compile(
    "|".join(
        [
            rf"\b\d{{1,2}}{_ORD}\s+(?:of\s+)?{MONTHS}(?:,?\s+\d{{4}})?\b",
            rf"\b{MONTHS}\s+\d{{1,2}}{_ORD}(?:,?\s+\d{{4}})?\b",
            rf"\b(?:in\s+|early\s+|late\s+|mid-?)?{MONTHS}(?:,?\s+\d{{4}})\b",
            r"\b\d{4}-\d{2}-\d{2}\b",
            rf"\b(?:on\s+|last\s+|this\s+)?{WEEKDAYS}\b",
            r"\b(?:yesterday|today)\b",
            r"\b(?:last|this|earlier\s+this)\s+(?:week|month|year)\b",
            r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?:days?|weeks?|months?|years?)\s+ago\b",
            r"\b(?:in|since|by|during)\s+(?:19|20)\d{2}\b",
            rf"\b(?:in|last|this)\s+{MONTHS}(?=[\s,.;])",
        ]
    ),
)
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


@functools.cache
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


#: Longest piece of a line handed to pysbd at once, in code points. pysbd's
#: abbreviation pass is about quadratic in the length of what it is given
#: (a 100 KB line took 9-15 s), so long lines are first cut into pieces of
#: at most this size at safe boundaries (see ``_pieces``).
MAX_PIECE = 2000
#: A safe cut: after a sentence end, which follows a lowercase word of two
#: letters or more (so not "Mr." or "U.S.") and precedes a capital, a
#: quote or a digit; or after a CJK full stop.
_SAFE_CUT = re.compile(r"(?:(?<=[a-z]{2}[.!?])[\"”’)\]]*\s+(?=[A-Z“\"‘(\d]))|(?<=[。！？])")


def _pieces(line: str, limit: int = MAX_PIECE) -> list[tuple[int, str]]:
    """``[(offset, piece)]`` covering ``line`` in order, each at most
    ``limit`` code points: cut at the last safe sentence end in the second
    half of the window, else at the last space, else hard at the limit (a
    sentence longer than ``limit`` with no space is split; nothing is
    lost)."""
    out = []
    at = 0
    while len(line) - at > limit:
        window = line[at : at + limit]
        cut = None
        for match in _SAFE_CUT.finditer(window, limit // 2):
            cut = match.end()
        if cut is None:
            space = max(window.rfind(" ", limit // 2), window.rfind("\t", limit // 2))
            cut = space + 1 if space > 0 else limit
        out.append((at, window[:cut]))
        at += cut
    out.append((at, line[at:]))
    return out


def sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` code-point offsets of each sentence of ``text``,
    without surrounding whitespace. pysbd splits each line (long lines in
    pieces of at most ``MAX_PIECE`` code points, cut at sentence ends where
    there are any); offsets are re-found in the text so they never drift.
    Linear in the length of the text."""
    spans = []
    for para in re.finditer(r"[^\n]+", text):
        for offset, chunk in _pieces(para.group()):
            _segment(chunk, para.start() + offset, spans)
    return spans


def _segment(chunk: str, base: int, spans: list) -> None:
    """Append pysbd's sentences of ``chunk`` (at ``base`` in the text) to
    ``spans``."""
    if not chunk.strip():
        return
    cursor = 0
    for piece in _segmenter().segment(chunk):
        sent = piece.sent.strip()
        if not sent:
            continue
        at = chunk.find(sent, cursor)
        if at < 0:  # pysbd altered the text: fall back on its offsets
            at = piece.start
        cursor = at + len(sent)
        spans.append((base + at, base + at + len(sent)))


@functools.cache
def _equivalent() -> dict[str, str]:
    out = {}
    for group in EQUIVALENTS:
        head = sorted(group)[0]
        for word in group:
            out[word] = head
    return out


def content_words(text: str) -> list[str]:
    """Lowercased words of ``text`` without stopwords, equivalents folded
    onto one word (multi-word ones first)."""
    lowered = text.lower()
    eq = _equivalent()
    for phrase, head in eq.items():
        if " " in phrase and phrase in lowered:
            lowered = lowered.replace(phrase, head)
    words = []
    for match in _WORD.finditer(lowered):
        for part in re.split(r"[-’']", match.group()):
            part = part.strip(".")
            if part and part not in STOPWORDS and (len(part) > 1 or part.isdigit()):
                words.append(eq.get(part, part))
    return words


def _word_hits(needles: list[str], haystack: list[str]) -> list[str]:
    """The needles found in haystack: exactly, or with rapidfuzz's ratio of
    at least 80 for words of six letters or more (extremist/extremism)."""
    if not haystack:
        return []
    pool = set(haystack)
    hits = []
    for word in needles:
        if word in pool:
            hits.append(word)
        elif len(word) >= 6 and process.extractOne(word, pool, scorer=fuzz.ratio, score_cutoff=80):
            hits.append(word)
    return hits


@functools.cache
def _country_names() -> list[tuple[str, str]]:
    """``(name, alpha_2)`` for ISO 3166 countries, in their short and
    common forms, plus the few everyday short names ISO lacks."""
    extra = {"RU": ("Russia",), "US": ("U.S.", "USA", "America"), "GB": ("Britain", "UK"), "MD": ("Moldova",)}
    names = []
    for country in pycountry.countries:
        forms = {country.name, country.name.split(",")[0]}
        for attr in ("common_name", "official_name"):
            if getattr(country, attr, None):
                forms.add(getattr(country, attr))
        forms.update(extra.get(country.alpha_2, ()))
        names.extend((form, country.alpha_2) for form in forms if len(form) > 3 or form.isupper())
    return names


def _name_pattern(name: str) -> re.Pattern:
    # Short names (SCO, US, UN) must match in their own case; longer ones
    # in any case. Names not starting/ending with a word character (e.g.
    # Chinese script) match anywhere.
    flags = 0 if len(name) <= 4 else re.IGNORECASE
    escaped = re.escape(name)
    if re.match(r"\w", name, re.ASCII):
        escaped = r"(?<!\w)" + escaped
    if re.search(r"\w$", name, re.ASCII):
        escaped += r"(?!\w)"
    return re.compile(escaped, flags)


class _Dates:
    """Dates in a sentence, parsed against the source's publication date."""

    def __init__(self, published_on: dt.date | None, published_precision: str):
        self.published_on = published_on
        self.published_precision = published_precision or "day"
        base = dt.datetime.combine(published_on or dt.date(2000, 1, 1), dt.time())
        self.parsed = {}
        self.parser = DateDataParser(
            languages=["en"],
            settings={
                "RELATIVE_BASE": base,
                "PREFER_DATES_FROM": "past",
                "PREFER_DAY_OF_MONTH": "first",
                "DATE_ORDER": "DMY",
                "STRICT_PARSING": False,
                "RETURN_TIME_AS_PERIOD": False,
            },
        )

    def find(self, text: str, offset: int) -> list[dict]:
        found = []
        for match in DATE_PATTERN.finditer(text):
            phrase = match.group().strip()
            bare = re.sub(r"^(?:on|in|since|by|during|early|late|mid-?)\s*", "", phrase)
            if bare not in self.parsed:  # same phrase, same base date: parse once per run
                self.parsed[bare] = self.parser.get_date_data(bare)
            parsed = self.parsed[bare]
            if parsed is None or parsed.date_obj is None:
                continue
            precision = {"day": "day", "week": "day", "month": "month", "year": "year"}.get(parsed.period, "day")
            day = parsed.date_obj.date()
            if (
                self.published_on
                and re.search(WEEKDAYS + r"$", phrase)
                and not phrase.lower().startswith("last")
                and (self.published_on - day).days == 7
            ):
                # "on Friday" in a text dated that Friday is that day (news
                # copy); dateparser's "past" preference goes a week back.
                day = self.published_on
            if precision == "year":
                day = day.replace(month=1, day=1)
            elif precision == "month":
                day = day.replace(day=1)
            relative = not _YEAR.search(phrase) and not re.search(r"\d{4}-", phrase)
            note = ""
            if relative:
                if self.published_on is None:
                    # Nothing to resolve it against: undated, and said so.
                    found.append(
                        {
                            "start": offset + match.start(),
                            "end": offset + match.end(),
                            "phrase": phrase,
                            "date": None,
                            "precision": "",
                            "note": f"“{phrase}” is relative and the source has no date: left undated.",
                        }
                    )
                    continue
                note = (
                    f"“{phrase}” is relative; resolved against the source's date "
                    f"{self.published_on.isoformat()} ({self.published_precision} precision)."
                )
                coarse = {"day": 0, "month": 1, "year": 2}
                if coarse.get(self.published_precision, 0) > coarse[precision]:
                    # "on Tuesday" in a text dated only to a month: the day
                    # cannot be known, the source's period can.
                    precision = self.published_precision
                    day = self.published_on
                    note += f" The source's date is known only to the {precision}, so this one is too."
            found.append(
                {
                    "start": offset + match.start(),
                    "end": offset + match.end(),
                    "phrase": phrase,
                    "date": day,
                    "precision": precision,
                    "note": note,
                }
            )
        return found


def _is_state(found: dict) -> bool:
    """A name found in a sentence is a state: a recorded actor of kind
    ``state``, or an ISO 3166 country not yet recorded. A person or body
    with a country code (a premier, a ministry) is not."""
    actor = found["actor"]
    if actor is None:
        return bool(found["country_code"])
    return actor.kind == "state"


def _nearest(items: list[dict], at: int) -> dict | None:
    if not items:
        return None
    return min(items, key=lambda item: (abs((item["start"] + item["end"]) / 2 - at), item["start"]))


def _title_from(sentence: str, trigger_end: int) -> str:
    """A working title: the words after the trigger up to the clause's end,
    at most twelve, first letter capitalised."""
    rest = sentence[trigger_end:]
    # Quotation marks inside the clause are kept out of the title, not
    # taken as its end ("called on the bloc's members to “maintain ...”").
    rest = re.sub(r"[“”\"]", "", rest)
    rest = re.split(r"[,;:.!?()]|\s+(?:which|because|while|so that|reflecting)\s+", rest, maxsplit=1)[0]
    words = rest.split()
    while words and words[0].lower() in {"the", "a", "an", "to", "that", "for", "on", "upon", "of"}:
        words = words[1:]
    if len(words) < 2:
        words = sentence.split()
    words = words[:12]
    # A title does not end on a function word ("... members to") or on
    # symbols (emoji, flags, dashes).
    while words and (words[-1].lower() in _TITLE_TAIL or not any(ch.isalnum() for ch in words[-1])):
        words = words[:-1]
    title = " ".join(words).strip(" .,;")
    title = re.sub(r"[^\w)\]’'%]+$", "", title)
    return title[:1].upper() + title[1:]


_TITLE_TAIL = STOPWORDS | {"both", "all", "any", "each", "which", "who", "will", "would", "should", "must"}
#: Pronouns are not proponents: "“We call upon ...,” he said" names no one.
PRONOUNS = {"I", "We", "You", "He", "She", "It", "They", "This", "These", "That", "Those", "The", "Our", "Their"}


#: A sentence that refers back to an instrument without naming it ("such a
#: treaty", "the convention") is about the document's main proposal.
ANAPHOR = re.compile(
    r"\b(?:such\s+an?|the|this|that|its)\s+(?:treaty|convention|agreement|accord|pact|charter|mechanism|proposal|"
    r"initiative|plan|instrument)\b",
    re.IGNORECASE,
)

_SUBJECT = re.compile(r"((?:(?:[A-Z][\w’'.-]*|of|the|and)\s+){0,6}[A-Z][\w’'.-]*)\s*(?:,[^,]{0,60},\s*)?$")


# --------------------------------------------------------------------------
# The engine
# --------------------------------------------------------------------------


class Engine:
    """Finds suggestions in one text against one ``Knowledge`` snapshot.

    ``Engine(knowledge).run(text, published_on=..., published_precision=...,
    source_id=...)`` returns ``Found`` items in text order."""

    #: A proposal matches a sentence when at least this share of its title's
    #: (or an alias's) content words occur there, two words at least.
    MATCH_THRESHOLD = 0.6
    #: Alternatives listed for a mention score at least this.
    ALTERNATIVE_THRESHOLD = 0.3

    def __init__(self, knowledge: Knowledge):
        self.knowledge = knowledge
        self.proposal_words = {
            p.pk: [(name, list(dict.fromkeys(content_words(name)))) for name in p.names] for p in knowledge.proposals
        }
        self.by_pk = {p.pk: p for p in knowledge.proposals}
        # Inverted index word -> proposals, so a sentence is scored only
        # against proposals sharing a word with it (prefix of six letters,
        # which also reaches the fuzzy matches).
        self.index = defaultdict(set)
        for pk, names in self.proposal_words.items():
            for _, words in names:
                for word in words:
                    self.index[word[:6]].add(pk)
        self.actor_patterns = [
            (actor, _name_pattern(name)) for actor in knowledge.actors for name in actor.names if name.strip()
        ]
        self.state_by_code = {a.country_code: a for a in knowledge.actors if a.kind == "state" and a.country_code}
        self.proposal_rules = [(name, re.compile(pattern, re.IGNORECASE), s) for name, pattern, s in PROPOSAL_RULES]
        self.event_rules = [(a, re.compile(pattern, re.IGNORECASE), st) for a, pattern, st in EVENT_RULES]

    # -- matching ------------------------------------------------------------

    def match_proposals(self, sentence: str) -> list[tuple[int, float, list[str]]]:
        """``[(proposal pk, score 0-1, matched words)]``, best first."""
        words = content_words(sentence)
        candidates = set()
        for word in words:
            candidates |= self.index.get(word[:6], set())
        scored = []
        for pk in candidates:
            best = (0.0, [])
            for _, title_words in self.proposal_words[pk]:
                if not title_words:
                    continue
                hits = _word_hits(title_words, words)
                score = len(hits) / len(title_words) if len(hits) >= min(2, len(title_words)) else 0.0
                if score > best[0]:
                    best = (score, hits)
            for quote in self.by_pk[pk].quotes:
                ratio = fuzz.ratio(sentence, quote) / 100
                if ratio >= 0.9 and ratio > best[0]:
                    best = (ratio, ["(its evidence quote)"])
            if best[0] > 0:
                scored.append((pk, round(best[0], 3), best[1]))
        scored.sort(key=lambda item: (-item[1], self.by_pk[item[0]].slug))
        return scored

    def find_actors(self, sentence: str, offset: int) -> list[dict]:
        """Actors and ISO 3166 countries named in the sentence, in text
        order: ``{start, end, actor (KnownActor|None), name, country_code}``."""
        found = []
        taken = []

        def free(s, e):
            return all(e <= a or s >= b for a, b in taken)

        for actor, pattern in self.actor_patterns:
            for match in pattern.finditer(sentence):
                if free(match.start(), match.end()):
                    taken.append((match.start(), match.end()))
                    found.append(
                        {
                            "start": offset + match.start(),
                            "end": offset + match.end(),
                            "actor": actor,
                            "name": match.group(),
                            "country_code": actor.country_code,
                        }
                    )
        for name, code in _country_names():
            if name not in sentence:
                continue
            for match in _name_pattern(name).finditer(sentence):
                if free(match.start(), match.end()):
                    taken.append((match.start(), match.end()))
                    found.append(
                        {
                            "start": offset + match.start(),
                            "end": offset + match.end(),
                            "actor": self.state_by_code.get(code),
                            "name": match.group(),
                            "country_code": code,
                        }
                    )
        found.sort(key=lambda item: item["start"])
        return found

    # -- the run ---------------------------------------------------------------

    def run(
        self,
        text: str,
        *,
        published_on: dt.date | None = None,
        published_precision: str = "day",
        source_id: int | None = None,
        progress=None,
    ) -> list[Found]:
        """``progress(done, total)``, when given, is called as sentences are
        matched (every 50 and at the end)."""
        dates = _Dates(published_on, published_precision)
        spans = sentences(text)
        analysed = []
        totals = defaultdict(float)
        for number, (start, end) in enumerate(spans, 1):
            if progress and (number % 50 == 0 or number == len(spans)):
                progress(number, len(spans))
            sentence = text[start:end]
            matches = self.match_proposals(sentence)
            for pk, score, _ in matches[:3]:
                totals[pk] += score
            analysed.append((start, end, sentence, matches))
        # The document's main proposal: the one its sentences match best,
        # provided one sentence names it clearly.
        main = None
        if totals:
            pk = min(totals, key=lambda k: (-totals[k], self.by_pk[k].slug))
            if any(m and m[0][0] == pk and m[0][1] >= 0.75 for *_, m in analysed):
                main = pk
        out = []
        self._last_date = None
        for start, end, sentence, matches in analysed:
            out.extend(self._sentence(text, start, end, sentence, matches, main, dates, source_id))
        if published_on is not None:
            # A proposal put forward in a dated source with no date of its
            # own was put forward by then: the source's date, said so.
            for item in out:
                if item.kind == "new_proposal" and item.occurred_on is None:
                    item.occurred_on = published_on
                    item.precision = published_precision or "day"
                    item.date_note = (
                        "The sentence gives no date; the source's publication date "
                        f"({published_on.isoformat()}, {item.precision} precision) is used: proposed by then."
                    )
        return self._dedupe(out)

    @staticmethod
    def _dedupe(found: list[Found]) -> list[Found]:
        """One status event per proposal and status, one participation per
        proposal, action and party in a document: a news item retells its
        main event; the mention with a date (then the most confident, then
        the first) is kept."""
        best = {}
        for item in found:
            if item.kind not in ("status_event", "participation"):
                continue
            key = (item.kind, item.proposal, item.status, item.action, item.party_name.casefold())
            rank = (item.occurred_on is not None, item.confidence)
            if key not in best or rank > best[key][0]:
                best[key] = (rank, id(item))
        keep = {ident for _, ident in best.values()}
        return [item for item in found if item.kind not in ("status_event", "participation") or id(item) in keep]

    def _sentence(self, text, start, end, sentence, matches, main, dates, source_id) -> list[Found]:
        calls = []
        for name, pattern, strength in self.proposal_rules:
            for match in pattern.finditer(sentence):
                calls.append((match.start(), match.end(), name, strength, match.group()))
        events = []
        for action, pattern, status in self.event_rules:
            for match in pattern.finditer(sentence):
                before = sentence[: match.start()]
                if NOT_YET.search(before[-60:]):
                    continue
                events.append((match.start(), match.end(), action, status, match.group()))
        events.sort()
        calls.sort(key=lambda c: (-c[3], c[0]))
        if not calls and not events:
            best = matches[0] if matches else None
            if best is None or best[1] < 0.9:
                return []
        best = matches[0] if matches and matches[0][1] >= self.MATCH_THRESHOLD else None
        actors = self.find_actors(sentence, start)
        found_dates = dates.find(sentence, start)
        carried = None
        if events:
            # A date in a clause about a call ("the treaty first called for
            # by Li Keqiang ... in December 2015") dates the call, not the
            # event.
            found_dates = [d for d in found_dates if not self._dates_a_call(sentence, d["start"] - start)]
        event_date = _nearest(found_dates, start + events[0][0]) if events and found_dates else None
        if event_date is not None:
            self._last_date = event_date
        elif events and self._last_date is not None:
            # News copy dates its event once and retells it undated: the
            # date of the latest dated event before this sentence (not the
            # latest date phrase, which may date something else: "first
            # called for ... in December 2015"), said so in the note.
            carried = dict(self._last_date)
            carried["note"] = (
                carried["note"] + f" Taken from an earlier sentence (“{carried['phrase']}”); this one gives no date."
            ).strip()
            carried["phrase"] = f"{carried['phrase']} (earlier sentence)"
            found_dates = [dict(carried, start=start, end=start)]

        def spanned(pk):
            return source_id is not None and (source_id, start, end) in self.by_pk[pk].spans

        base = {"start": start, "end": end, "quote": text[start:end]}
        if events:
            proposal, how, score = None, "", 0.0
            if best:
                proposal, score = best[0], best[1]
                how = f"names the proposal ({', '.join(best[2])}; score {best[1]:.2f})"
            elif main is not None:
                proposal, score = main, 0.5
                how = f"no proposal named; the document's main proposal ({self.by_pk[main].slug})"
            if proposal is None:
                action_start, action_end, action, status, word = events[0]
                return [
                    self._new_proposal(base, sentence, action_start, action_end, f"event “{word}”", 0.5, actors, status)
                ]
            return self._events(base, sentence, events, proposal, score, how, actors, found_dates, spanned)
        if not best and main is not None and calls and ANAPHOR.search(sentence):
            word = ANAPHOR.search(sentence).group()
            best = (main, 0.5, [f"“{word}”, the document's main proposal"])
        if best:
            pk, score, hits = best
            if spanned(pk):
                return []
            trigger = calls[0] if calls else None
            proponent = self._proponent(sentence, start, actors, trigger)
            why = f"names the proposal ({', '.join(hits)}; score {score:.2f})"
            if trigger:
                why += f"; {trigger[2]} language “{trigger[4]}”"
            found = Found(
                kind="mention",
                proposal=pk,
                alternatives=[
                    {"slug": self.by_pk[p].slug, "score": s}
                    for p, s, _ in matches[:5]
                    if s >= self.ALTERNATIVE_THRESHOLD
                ],
                confidence=round(min(1.0, 0.2 + 0.7 * score + (0.1 if trigger else 0)), 2),
                explanation=why,
                **base,
                **proponent,
            )
            date = _nearest(found_dates, (trigger[0] + start) if trigger else start)
            if date and trigger:
                found.occurred_on, found.precision, found.date_note = date["date"], date["precision"], date["note"]
            return [found]
        if not calls:
            return []
        trigger = calls[0]
        return [
            self._new_proposal(
                base, sentence, trigger[0], trigger[1], f"{trigger[2]} language “{trigger[4]}”", trigger[3], actors
            )
        ]

    def _dates_a_call(self, sentence: str, at: int) -> bool:
        """The clause before the date at ``at`` (in ``sentence``) holds the
        language of a call (call, urge, propose): the date is the call's."""
        clause = re.split(r"[,;—]|\s-\s", sentence[:at])[-1]
        return any(
            pattern.search(clause) for name, pattern, _ in self.proposal_rules if name in ("call", "urge", "propose")
        )

    def _proponent(self, sentence, offset, actors, trigger) -> dict:
        """Who is putting it forward: the actor named last before the
        trigger, else the capitalised words right before it, else the first
        actor named."""
        if trigger:
            before = [a for a in actors if a["end"] - offset <= trigger[0]]
            if before:
                a = before[-1]
                return {"proponent": a["actor"].pk if a["actor"] else None, "proponent_name": a["name"]}
            head = sentence[: trigger[0]].rstrip()
            # "X on Monday urged": the subject is X, not the date.
            head = re.sub(r"(?:\s+(?:" + DATE_PATTERN.pattern + r"))+$", "", head).rstrip(" ,")
            subject = _SUBJECT.search(head)
            if subject and subject.group(1).split()[0] not in PRONOUNS:
                return {"proponent": None, "proponent_name": subject.group(1).strip()}
        if actors:
            a = actors[0]
            return {"proponent": a["actor"].pk if a["actor"] else None, "proponent_name": a["name"]}
        return {}

    def _new_proposal(self, base, sentence, trigger_start, trigger_end, why, strength, actors, status="") -> Found:
        proponent = self._proponent(sentence, base["start"], actors, (trigger_start, trigger_end))
        return Found(
            kind="new_proposal",
            title=_title_from(sentence, trigger_end),
            status=status or "proposed",
            confidence=round(min(1.0, strength + (0.1 if proponent else 0)), 2),
            explanation=why + (f"; proponent “{proponent['proponent_name']}”" if proponent else ""),
            **base,
            **proponent,
        )

    def _events(self, base, sentence, events, proposal, score, how, actors, found_dates, spanned) -> list[Found]:
        out = []
        seen = set()
        offset = base["start"]
        for ev_start, _ev_end, action, status, word in events:
            at = offset + ev_start
            treaty = action in TREATY_ACTIONS
            # The event's date: the date phrase nearest the event word. A
            # party takes the date nearest its own name ("Kyrgyzstan ratified
            # in May 2018, and Tajikistan on 22 June 2018"); dates of calls
            # were left out above.
            event_date = _nearest(found_dates, at) or {}
            parties = []
            for a in actors:
                if treaty and not _is_state(a):
                    continue  # only states are parties to a treaty (not their officials)
                if re.search(r"\b(?:in|at|from|near)\s+$", sentence[: a["start"] - offset]):
                    continue  # "signed in China": a place, not a party
                parties.append(a)
            if action and parties and action != "":
                for party in parties:
                    key = ("participation", action, party["country_code"] or party["name"].lower())
                    if key in seen:
                        continue
                    seen.add(key)
                    out.append(
                        self._event_found(
                            base,
                            "participation",
                            proposal,
                            score,
                            how,
                            word,
                            _nearest(found_dates, (party["start"] + party["end"]) / 2) or event_date,
                            action=action,
                            party=party,
                        )
                    )
            if status and ("status", status) not in seen:
                # The instrument as a whole: signed (adopted), in force.
                if status == "in_force" and parties and action:
                    continue  # in force for those parties, said above
                seen.add(("status", status))
                date = _nearest(found_dates, at) or {}
                out.append(self._event_found(base, "status_event", proposal, score, how, word, date, status=status))
        return out

    def _event_found(self, base, kind, proposal, score, how, word, date, *, action="", status="", party=None):
        why = f"event “{word}”; {how}"
        confidence = 0.35 + 0.3 * min(score, 1.0)
        if date and date.get("date"):
            why += f"; date “{date['phrase']}”"
            confidence += 0.2
        if party:
            why += f"; party “{party['name']}”" + (f" (ISO {party['country_code']})" if party["country_code"] else "")
            confidence += 0.15
        return Found(
            kind=kind,
            proposal=proposal,
            status=status,
            action=action,
            occurred_on=date.get("date"),
            precision=date.get("precision", ""),
            date_note=date.get("note", ""),
            party=party["actor"].pk if party and party["actor"] else None,
            party_name=party["name"] if party else "",
            confidence=round(min(confidence, 1.0), 2),
            explanation=why,
            **base,
        )
