"""The independent sources behind a fact stated several times.

A publisher counts once however often it states a fact, however its name is spelled (`graph.publisher_key`), by
its most certain statement. One article relayed by several publishers (a wire story republished by an aggregator, a
register's page copied into another dataset) is one source too: counted as two, it corroborated itself ("2
sources", 0.85 reported became 0.95).

So the publishers that count are a largest set of them that can each be given an article of its own among the
articles it cites (a matching of publishers to articles), the most certain such set: at most one a publisher and at
most one an article. A publisher citing an article nobody else cites always counts (`independent`); the publishers
citing only articles others cite too (relays) count as far as the articles they cite can be shared out among them,
the most certain first. This never counts more sources than there are publishers or articles, and a statement
added can never lower a certainty: a bogus publisher citing two outlets' articles does not join them into one (the
sets of publishers that can be given articles of their own only grow with more statements, and the most certain of
them is taken greedily, which is exact for such sets: they form a matroid). It depends on the statements only,
never on their order.

Only the source URL tells one article (`article_key`): an importer run over a file of many publishers with one
`--source-url` for all of them makes them relays of one article, which can only lower a certainty.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Iterable, Mapping
from urllib.parse import urlsplit

_WEB_SCHEMES = {"http": "https", "https": "https"}


def article_key(url: str) -> str:
    """The article a source URL names, as sources are told apart: http and https alike, the host case-folded and
    without a leading "www.", no fragment and no trailing slash; the query is kept (it names the article on many
    sites). Anything `urlsplit` cannot read is its stripped text."""
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:  # ("http://[unclosed": an invalid IPv6 host) a source URL is only text to compare
        return sys.intern(text)
    scheme = parts.scheme.lower()
    if scheme not in _WEB_SCHEMES:
        return sys.intern(text.split("#", 1)[0])
    host = parts.netloc.lower()
    if host.startswith("www."):
        host = host[4:]
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return sys.intern(f"{_WEB_SCHEMES[scheme]}://{host}{path}{query}")


# Relays considered, the most certain first: a fact relayed by more publishers that cite no article of their own
# counts at most this many of them (so an adversary's flood of relays costs a bounded matching).
MAX_RELAYS = 64


def relays(citers: Mapping[str, Collection[str]]) -> dict[str, list[str]] | None:
    """The publishers that cite no article of their own, each with the articles it cites, from each article's
    publishers (`citers`); None where every publisher has one (the common case, which costs nothing more)."""
    own = {next(iter(publishers)) for publishers in citers.values() if len(publishers) == 1}
    return relays_among(((article, publishers) for article, publishers in citers.items() if len(publishers) > 1),
                        own)


def relays_among(shared: Iterable[tuple[str, Collection[str]]], own: Collection[str]) -> dict[str, list[str]] | None:
    """`relays` from the articles several publishers cite and the publishers with an article of their own."""
    found: dict[str, list[str]] = {}
    for article, publishers in shared:
        for publisher in publishers:
            if publisher not in own:
                found.setdefault(publisher, []).append(article)
    return found or None


def of_statements(statements: Iterable) -> dict[str, list[str]] | None:
    """`relays` of statements (`graph.Relation`s), by their citations."""
    citers: dict[str, set[str]] = {}
    for statement in statements:
        citation = statement.citation
        citers.setdefault(citation.article, set()).add(citation.source)
    return relays(citers)


def independent(values: Mapping[str, float], relaying: Mapping[str, Collection[str]] | None) -> list[str]:
    """The publishers that count (see the module), from each publisher's value (its most certain statement) and
    the `relays` among them: every publisher with an article of its own, then each relay, the most certain first
    (ties by name; at most `MAX_RELAYS` of them), that can still be given an article no other counted relay needs
    (an augmenting path, found breadth-first)."""
    if relaying is None:
        return list(values)
    counted = [publisher for publisher in values if publisher not in relaying]
    held_by: dict[str, str] = {}  # article -> the counted relay it is given to
    given: dict[str, str] = {}  # the counted relay -> its article
    for publisher in sorted(relaying, key=lambda name: (-values[name], name))[:MAX_RELAYS]:
        if _given_one(publisher, relaying, held_by, given):
            counted.append(publisher)
    return counted


def _given_one(start: str, relaying: Mapping[str, Collection[str]], held_by: dict[str, str],
               given: dict[str, str]) -> bool:
    """Give `start` an article, moving counted relays to other articles of theirs where that frees one (an
    augmenting path); False, changing nothing, where none can be freed."""
    reached_from: dict[str, str] = {}  # article -> the relay whose articles it was reached among
    queue = [start]
    for relay in queue:
        for article in relaying[relay]:
            if article in reached_from:
                continue
            reached_from[article] = relay
            holder = held_by.get(article)
            if holder is not None:
                queue.append(holder)
                continue
            while True:  # free: each relay on the path back takes the article it reached
                relay = reached_from[article]
                previous = given.get(relay)
                held_by[article], given[relay] = relay, article
                if relay == start:
                    return True
                article = previous
    return False
