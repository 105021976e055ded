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
never on their order. At most `MAX_RELAYS` relays count, which bounds the matching's cost; once that many count,
a publisher that loses its last article of its own to relays (others cite it too) costs one source, the least
certain relay's: the one way a statement added can lower a count.

What it cannot tell: a relay whose source then publishes a follow-up of its own (the wire's story, an aggregator's
copy of it, then the wire's update) is two sources, the copy and the update, as it was before relays were told at
all; only the source URL tells one article (`article_key`), so an importer run over a file of many publishers with
one `--source-url` for all of them makes them relays of one article, which can only lower a certainty.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from urllib.parse import urlsplit

_WEB_SCHEMES = ("http", "https")
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def article_key(url: str) -> str:
    """The article a source URL names, as sources are told apart: http and https alike (and a URL that starts at
    its host, `//host/...`), the host case-folded, without a leading "www." or the scheme's default port, no
    trailing slash, no fragment unless it routes the page (`#/...`, `#!...`: a single-page site's articles); the
    query is kept (it names the article on many sites). Anything else (another scheme, a URL without its scheme,
    one `urlsplit` cannot read) is its stripped text without a fragment. The URL itself where that is what it
    is: most are, and a relation's citation then holds one string, not two."""
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:  # ("http://[unclosed": an invalid IPv6 host) a source URL is only text to compare
        return _same_or(url, text)
    scheme = parts.scheme.lower()
    if scheme not in _WEB_SCHEMES and not (scheme == "" and text.startswith("//")):
        return _same_or(url, text.split("#", 1)[0])
    host = parts.netloc.lower()
    if host.startswith("www."):
        host = host[4:]
    if host.endswith(_DEFAULT_PORTS[scheme or "https"]):
        host = host.rsplit(":", 1)[0]
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    fragment = f"#{parts.fragment}" if parts.fragment.startswith(("/", "!")) else ""
    return _same_or(url, f"https://{host}{path}{query}{fragment}")


def _same_or(url: str, key: str) -> str:
    return url if key == url else key


# Relays counted at most: a fact relayed by more publishers that cite no article of their own counts this many
# of them, the most certain (every relay is still tried, so the count stays a largest one up to this bound; the
# articles an attempt found taken for good are skipped after, so a flood of relays costs a bounded matching).
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
    (ties by name), that can still be given an article no other counted relay needs (an augmenting path, found
    breadth-first), until `MAX_RELAYS` relays count or every article is given."""
    if relaying is None:
        return list(values)
    counted = [publisher for publisher in values if publisher not in relaying]
    held_by: dict[str, str] = {}  # article -> the counted relay it is given to
    given: dict[str, str] = {}  # the counted relay -> its article
    # Articles taken for good: those a failed attempt reached, every one given to a relay whose articles are all
    # among them. Counting more relays never frees one, so no later path through them can end at a free article.
    closed: set[str] = set()
    articles = len(set().union(*relaying.values()))
    for publisher in sorted(relaying, key=lambda name: (-values[name], name)):
        if len(given) >= MAX_RELAYS or len(given) == articles:
            break
        if _given_one(publisher, relaying, held_by, given, closed):
            counted.append(publisher)
    return counted


def _given_one(start: str, relaying: Mapping[str, Collection[str]], held_by: dict[str, str],
               given: dict[str, str], closed: set[str]) -> bool:
    """Give `start` an article, moving counted relays to other articles of theirs where that frees one (an
    augmenting path); False, changing nothing but `closed`, where none can be freed."""
    reached_from: dict[str, str] = {}  # article -> the relay whose articles it was reached among
    queue = [start]
    for relay in queue:
        for article in relaying[relay]:
            if article in reached_from or article in closed:
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
    closed.update(reached_from)
    return False
