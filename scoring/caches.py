"""The engine's shared cached results in one typed store: what each kind computes, who uses a result, when it
goes, and which nodes it mentions.

Every cached computation of the engine has a `Kind`, the first item of its key in the dependency index
((Kind.GROUP, counterparty), (Kind.PAIR, actor, counterparty)). `CacheStore` holds the results that several users
share and that live exactly as long as someone uses them; `KINDS` says for each how:

- a node's ties, what it holds, its stakes below the threshold too, and who holds it (TIES, HOLDINGS, STAKES,
  OWNERS): the per-node results every exposure set, partner scan, sphere and group containing the node reads
  through `search.SharedResults` (a hub company sits in many; a relative is a root of many exposure sets). Their
  users are the
  computations that read them, as the dependency index records it (`Reads.uses`): a result goes as soon as no
  registered computation reads it any more (`release_unread`), and when it changes exactly its readers are dirty;
- a partner's sphere (SPHERE) and what a candidate counterparty beneficially owns (OWNED): their users are actors,
  who take a result (`get_or_compute`) and give it back (`release`); it goes with its last user;
- a counterparty's group (GROUP): its users are the actors with authority over it. A released group is kept until
  the end of the refresh (`collect`), because a pair rescored later in the same refresh often takes it again; the
  store also answers which groups each actor holds (`held_by`: the pairs with authority).

Computing a result registers its reads with the dependency index under its key, and dropping it unregisters them:
here, once. A result can mention nodes that the engine must find it by (`mentioning`): a group, the nodes it can
read in a pair (an exposure-set change re-scores only the pairs whose group reads a changed node); what a
counterparty beneficially owns, its holdings (an authority relation into a holding concerns the pairs of the
counterparties owning it: their actors are the users of those holdings, so such pairs need no reads of their own).

Per-actor results (REACH, EXPOSURE, PARTNERS) and pair scores (PAIR) are not kept here: each belongs to one actor
and lives exactly as long as he is an actor, so there are no users to count or results to release; and each stage
is recomputed in a fixed order with its own comparison (a changed reach re-scores the pairs whose authority paths
it moves, a changed exposure set those whose group reads a changed node, new partners move candidate counts). A
store would hold them but decide nothing about them. Their keys carry their `Kind` all the same.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Set as AbstractSet
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from scoring.compact_index import add_one, discard_one, members
from scoring.dependencies import USES_HOLDINGS, USES_OWNERS, USES_STAKES, USES_TIES, DependencyIndex, Reads
from scoring.group import Group, group
from scoring.ownership import Holding, StakesAlone, beneficially_owned, holdings, owners, sphere, stakes
from scoring.search import NodeTies, SearchContext, node_ties


class Kind(IntEnum):
    """A kind of cached computation: the first item of its key in the dependency index (an int, so keys stay small
    and sort)."""

    REACH = 0  # (REACH, person): what an actor steers
    EXPOSURE = 1  # (EXPOSURE, person): his exposure set
    PARTNERS = 2  # (PARTNERS, person): the parties his exposure set is tied to
    TIES = 3  # (TIES, node): its usable commercial relations
    HOLDINGS = 4  # (HOLDINGS, node): what it holds at or above the threshold
    SPHERE = 5  # (SPHERE, node): the groups a partner belongs to
    OWNED = 6  # (OWNED, counterparty): what it beneficially owns
    GROUP = 7  # (GROUP, counterparty): its group
    PAIR = 8  # (PAIR, actor, counterparty): the pair's score
    STAKES = 9  # (STAKES, node): what it owns through ownership alone, also below the threshold
    OWNERS = 10  # (OWNERS, node): who holds it at or above the threshold


@dataclass(frozen=True, slots=True)
class Spec:
    """How the store keeps one kind of result."""

    compute: Callable[[str, SearchContext], Any]
    # the dependency-index table recording which computations read the result (they are its users); None: its users
    # are actors who take and release it
    read_table: int | None = None
    deferred: bool = False  # a result without users stays until `collect` (else it goes with its last user)
    by_user: bool = False  # also index which results each user holds (`held_by`)
    # the nodes a result mentions, for `mentioning`; None from it: every node
    mentions: Callable[[Any], Iterable[str] | None] | None = None
    # with `mentions`: the nodes whose ties a result reads whole, each with its ties (the node's own tuple, shared
    # by every result reading it): the result also mentions whom they are tied to, indexed once under the node
    mentions_through: Callable[[Any], dict[str, tuple]] | None = None
    # for a kind read by computations: the part of a result that readers of some kind see, when they see less than
    # all of it (a reader of that kind is recomputed only when its part changed)
    views: tuple[tuple[Kind, Callable[[Any], Any]], ...] = ()
    # for a kind read by computations: (before, after) of a recomputation -> after, holding before's objects where
    # they are equal; its readers compare their results with what they were item by item, and the same object
    # compares at once (a relative's ties, in each of the hundreds of groups he is in, compared hop by hop)
    renewed: Callable[[Any, Any], Any] | None = None
    # for a kind read by computations: the kind of reader whose view (in `views`) is a set that it takes the union
    # of, with other results' views: where a result's view only gained items, such a reader dirty for nothing else
    # is told what it gained (`CacheStore.grown`) and may add that to its result instead of being recomputed
    grows: Kind | None = None


def _owned_nodes(owned: dict[str, tuple]) -> Iterable[str]:
    return owned.keys()


KINDS: dict[Kind, Spec] = {
    # an exposure set reads only a member's ties to assets (`search.commercial_ties`), a partner scan only whom they
    # join it to; a group reads them all
    Kind.TIES: Spec(node_ties, read_table=USES_TIES,
                    views=((Kind.EXPOSURE, NodeTies.asset_view), (Kind.PARTNERS, NodeTies.neighbours)),
                    renewed=NodeTies.renewed, grows=Kind.PARTNERS),
    Kind.HOLDINGS: Spec(holdings, read_table=USES_HOLDINGS),
    Kind.STAKES: Spec(stakes, read_table=USES_STAKES),
    Kind.OWNERS: Spec(owners, read_table=USES_OWNERS),
    Kind.SPHERE: Spec(sphere),
    Kind.OWNED: Spec(beneficially_owned, mentions=_owned_nodes),
    Kind.GROUP: Spec(group, deferred=True, by_user=True, mentions=Group.named_nodes,
                     mentions_through=Group.wide_members),
}
_KIND_OF_TABLE = {spec.read_table: kind for kind, spec in KINDS.items() if spec.read_table is not None}
_READ_KINDS = frozenset(_KIND_OF_TABLE.values())


class CacheStore:
    """The shared results of the kinds in `KINDS`, their users, and the reverse index of the nodes they mention.

    `context(reads)` gives the search context a computation runs in (the engine's evaluation date, this store as
    its shared results). Also the engine's `search.SharedResults`."""

    __slots__ = ("_deps", "_context", "_results", "_holders", "_held", "_mentioned", "_mentions_all", "_through",
                 "_tied", "_tied_as", "grown")

    def __init__(self, deps: DependencyIndex, context: Callable[[Reads], SearchContext]):
        self._deps = deps
        self._context = context
        self._results: dict[Kind, dict[str, Any]] = {kind: {} for kind in KINDS}
        # key -> its users, compactly (`scoring.compact_index`)
        self._holders: dict[Kind, dict[str, str | tuple[str, ...] | set[str]]] = {
            kind: {} for kind, spec in KINDS.items() if spec.read_table is None}
        self._held: dict[Kind, dict[str, set[str]]] = {kind: {} for kind, spec in KINDS.items() if spec.by_user}
        # node -> the keys of the results mentioning it, compactly (`scoring.compact_index`)
        self._mentioned: dict[Kind, dict[str, str | tuple[str, ...] | set[str]]] = {
            kind: {} for kind, spec in KINDS.items() if spec.mentions is not None}
        self._mentions_all: dict[Kind, set[str]] = {kind: set() for kind in self._mentioned}
        # for a kind with `mentions_through`: node -> the keys of the results reading its ties whole; neighbour ->
        # the nodes so read that are tied to it; node so read -> the ties indexed for it. A node's ties are indexed
        # once, however many results read them (a relative in the groups of his 400 holdings), and are the ties
        # every such result holds: a change of them makes each of its readers dirty in the same refresh, and the
        # first one recomputed moves the index to the new ties
        through = [kind for kind, spec in KINDS.items() if spec.mentions_through is not None]
        self._through: dict[Kind, dict[str, str | tuple[str, ...] | set[str]]] = {kind: {} for kind in through}
        self._tied: dict[Kind, dict[str, str | tuple[str, ...] | set[str]]] = {kind: {} for kind in through}
        self._tied_as: dict[Kind, dict[str, tuple]] = {kind: {} for kind in through}
        # what the last `refresh_read` told readers of a kind's `grows`: reader key -> the items its view gained, or
        # None where some view lost items too (it is recomputed); only readers it made dirty and nothing else did.
        # The engine takes it during the refresh (it never outlives one)
        self.grown: dict = {}

    # -- results -------------------------------------------------------------------------------------------------

    def get(self, kind: Kind, key: str) -> Any | None:
        return self._results[kind].get(key)

    def get_or_compute(self, kind: Kind, key: str, user: str | Reads) -> tuple[Any, int]:
        """(the result, visits spent computing it now: 0 if it was held), `user` now among its users: an actor, or
        for a kind read by computations the reads of the computation using it."""
        spec = KINDS[kind]
        if isinstance(user, Reads):
            user.uses(spec.read_table, key)
        else:
            add_one(self._holders[kind], key, user)
            if spec.by_user:
                self._held[kind].setdefault(user, set()).add(key)
        held = self._results[kind].get(key)
        if held is not None:
            return held, 0
        return self._compute(kind, key)

    def recompute(self, kind: Kind, key: str) -> tuple[Any, Any, int] | None:
        """(before, after, visits) for a held result whose reads changed; None if it is not held."""
        before = self._results[kind].get(key)
        if before is None:
            return None
        after, visits = self._compute(kind, key)
        return before, after, visits

    def _compute(self, kind: Kind, key: str, before: Any = None) -> tuple[Any, int]:
        reads = Reads()
        spec = KINDS[kind]
        result = spec.compute(key, self._context(reads))
        if before is not None and result is not None and spec.renewed is not None:
            result = spec.renewed(before, result)
        self._store(kind, key, result)
        self._deps.register((kind, key), reads)
        return result, reads.visits

    def _store(self, kind: Kind, key: str, result: Any) -> None:
        results = self._results[kind]
        if kind in self._mentioned:
            before = results.get(key)
            if before is not None and result is not None:
                self._reindex_mentions(kind, key, before, result)
            elif before is not None:
                self._index_mentions(kind, key, before, False)
            elif result is not None:
                self._index_mentions(kind, key, result, True)
        if result is None:
            results.pop(key, None)
        else:
            results[key] = _EMPTY.get(type(result), result) if not result else result

    def drop(self, kind: Kind, key: str) -> None:
        """Forget the result and its reads (its users, if any, are forgotten too)."""
        self._store(kind, key, None)
        self._deps.unregister((kind, key))
        holders = self._holders.get(kind)
        users = holders.pop(key, None) if holders is not None else None
        if users is not None and kind in self._held:
            for user in members(users):
                _discard_from(self._held[kind], user, key)

    def count(self, kind: Kind) -> int:
        return len(self._results[kind])

    def items(self, kind: Kind) -> Iterable[tuple[str, Any]]:
        return self._results[kind].items()

    # -- users ---------------------------------------------------------------------------------------------------

    def users(self, kind: Kind, key: str) -> Collection:
        """Who uses the result (read only): actors, or the keys of the computations that read it."""
        spec = KINDS[kind]
        if spec.read_table is not None:
            return self._deps.users_of(spec.read_table, key)
        return members(self._holders[kind].get(key))

    def held_by(self, kind: Kind, user: str) -> AbstractSet[str]:
        """The keys whose results `user` uses, for a kind indexed by user (read only)."""
        return self._held[kind].get(user) or _NONE

    def release(self, kind: Kind, key: str, user: str) -> None:
        """`user` no longer uses the result; it goes with its last user (for a deferred kind: at `collect`)."""
        spec = KINDS[kind]
        if spec.by_user:
            _discard_from(self._held[kind], user, key)
        if discard_one(self._holders[kind], key, user) and not spec.deferred:
            self.drop(kind, key)

    def collect(self, kind: Kind, keys: Iterable[str]) -> None:
        """Drop the results among `keys` that no user holds any more (a deferred kind's release)."""
        results, holders = self._results[kind], self._holders[kind]
        # (found first, then dropped in order: dropping one changes neither the result nor the users of another;
        # a rebuild passes every counterparty, and drops few or none)
        for key in sorted({key for key in keys if key in results and not holders.get(key)}):
            self.drop(kind, key)

    # -- results read by computations (the shared per-node results) ---------------------------------------------

    def refresh_read(self, dirty: set) -> int:
        """Recompute the dirty results whose users are readers; the readers of one that changed join `dirty`.
        Returns the visits spent."""
        visits = 0
        self.grown = grown = {}
        for kind, node in sorted(k for k in dirty if k[0] in _READ_KINDS):
            before = self._results[kind].get(node)
            if before is None:
                continue
            users = self._deps.users_of(KINDS[kind].read_table, node)
            if not users:
                self.drop(kind, node)
                continue
            after, cost = self._compute(kind, node, before)
            visits += cost
            if after != before:
                spec = KINDS[kind]
                told = None  # the kind of reader told what its view gained
                for reader_kind, view in spec.views:
                    seen_after, seen_before = view(after), view(before)
                    if seen_after == seen_before:
                        users = {user for user in users if not (type(user) is tuple and user[0] == reader_kind)}
                    elif reader_kind == spec.grows:
                        told = reader_kind
                        gained = seen_after - seen_before if seen_before <= seen_after else None
                        for user in users:
                            if type(user) is tuple and user[0] == reader_kind:
                                if user in grown:
                                    held = grown[user]
                                    grown[user] = None if held is None or gained is None else held | gained
                                elif user not in dirty:  # (dirty for something else already: recomputed)
                                    grown[user] = gained
                if grown:  # a reader told of a gain that is dirty for something else now too is recomputed
                    for user in users:
                        if user in grown and (type(user) is not tuple or user[0] != told):
                            grown[user] = None
                if kind == Kind.STAKES:
                    users = self._seeing_stakes(users, node, before, after, dirty)
                dirty |= users
        return visits

    def _seeing_stakes(self, users: set, node: str, before: dict, after: dict, dirty: set) -> set:
        """The readers of a node's stakes that can see how they changed. Only an exposure set reads stakes, those
        of each of its related parties (`exposure._joint_holdings`), and only to add up the stakes two or more of
        them hold in one entity: an entity whose holding changed that none of its other parties holds (as their
        stakes are now: where several parties' stakes change in one refresh, each change is checked against the
        others as they are then, one step at a time) was a part of nothing and is still none, so its result and
        its reads stay as they were. A reader dirty already is kept as it is."""
        differing = None
        stakes = self._results[Kind.STAKES]
        seeing = set()
        for user in users:
            if user in dirty or type(user) is not tuple or user[0] != Kind.EXPOSURE:
                seeing.add(user)
                continue
            read = self._deps.reads_of(user)
            if read is None:
                seeing.add(user)
                continue
            if differing is None:
                differing = [held for held in before.keys() | after.keys() if before.get(held) != after.get(held)]
            for table, other in read:
                if table == USES_STAKES and other != node:
                    held = stakes.get(other)
                    if held is None or any(entity in held for entity in differing):
                        seeing.add(user)
                        break
        return seeing

    def release_unread(self) -> None:
        """Drop the results read by computations that no registered computation reads any more."""
        deps = self._deps
        while deps.released:
            released, deps.released = deps.released, []
            for table, node in released:
                kind = _KIND_OF_TABLE[table]
                if node in self._results[kind] and not deps.users_of(table, node):
                    self.drop(kind, node)

    # search.SharedResults

    def ties(self, node: str, reads: Reads) -> NodeTies:
        return self._read(Kind.TIES, USES_TIES, node, reads)

    def holdings(self, node: str, reads: Reads) -> dict[str, Holding]:
        return self._read(Kind.HOLDINGS, USES_HOLDINGS, node, reads)

    def stakes(self, node: str, reads: Reads) -> dict[str, Holding]:
        return self._read(Kind.STAKES, USES_STAKES, node, reads)

    def owners(self, node: str, reads: Reads) -> dict[str, Holding]:
        return self._read(Kind.OWNERS, USES_OWNERS, node, reads)

    def held_holdings(self, node: str, reads: Reads) -> dict[str, Holding] | None:
        return self._read_if_held(Kind.HOLDINGS, node, reads)

    def held_owners(self, node: str, reads: Reads) -> dict[str, Holding] | None:
        return self._read_if_held(Kind.OWNERS, node, reads)

    def holdings_through_stakes_alone(self, node: str, reads: Reads) -> dict[str, Holding] | None:
        return self._walked_alike(Kind.HOLDINGS, node, reads)

    def owned_through_stakes_alone(self, node: str, reads: Reads) -> dict[str, tuple] | None:
        return self._walked_alike(Kind.OWNED, node, reads)

    def _walked_alike(self, kind: Kind, node: str, reads: Reads) -> StakesAlone | None:
        """The held result if its walk met no control, so that the walk of the other of ownership alone and
        ownership and control is the same one: the reader takes its reads as its own (not a use of it: it is
        recomputed on exactly what that walk read, and keeps nothing alive), else None."""
        held = self._results[kind].get(node)
        if type(held) is not StakesAlone:
            return None
        walked = self._deps.reads_of((kind, node))
        if walked is None:
            return None
        reads.entries.update(walked)
        return held

    def _read_if_held(self, kind: Kind, node: str, reads: Reads) -> Any | None:
        """The result if it is held (a read of it then recorded), else None: the caller computes without it."""
        held = self._results[kind].get(node)
        if held is not None:
            reads.uses(KINDS[kind].read_table, node)
        return held

    def _read(self, kind: Kind, table: int, node: str, reads: Reads) -> Any:
        """`get_or_compute` for a computation reading a shared per-node result (the searches' innermost look-up),
        its cost added to the reader's."""
        reads.uses(table, node)
        held = self._results[kind].get(node)
        if held is not None:
            return held
        result, visits = self._compute(kind, node)
        reads.visits += visits
        return result

    # -- what results mention ------------------------------------------------------------------------------------

    def mentioning(self, kind: Kind, node: str) -> Iterable[str]:
        """The keys whose result mentions `node` (not counting those that mention every node)."""
        named = members(self._mentioned[kind].get(node))
        tied = self._tied.get(kind)
        wide = members(tied.get(node)) if tied is not None else ()
        if not wide:
            return named
        found = set(named)
        through = self._through[kind]
        for member in wide:
            found.update(members(through[member]))
        return found

    def mentioning_all(self, kind: Kind) -> set[str]:
        """The keys whose result mentions every node (read only)."""
        return self._mentions_all[kind]

    def _reindex_mentions(self, kind: Kind, key: str, before: Any, after: Any) -> None:
        """Move the key's index entries from what `before` mentions to what `after` does, touching only the nodes
        that differ (a recomputed group mostly mentions the same nodes again, and a hub's list is long)."""
        spec = KINDS[kind]
        mentions = spec.mentions
        assert mentions is not None
        old, new = mentions(before), mentions(after)
        if old is None or new is None:
            self._index_mentions(kind, key, before, False)
            self._index_mentions(kind, key, after, True)
            return
        old, new = set(old), set(new)
        index = self._mentioned[kind]
        for node in old - new:
            discard_one(index, node, key)
        for node in new - old:
            add_one(index, node, key)
        if spec.mentions_through is not None:
            wide = spec.mentions_through(after)
            for node in spec.mentions_through(before).keys() - wide.keys():
                self._unread_whole(kind, key, node)
            for node, ties in wide.items():
                self._read_whole(kind, key, node, ties)

    def _index_mentions(self, kind: Kind, key: str, result: Any, add: bool) -> None:
        mentions = KINDS[kind].mentions
        assert mentions is not None  # only kinds with `mentions` are indexed
        nodes = mentions(result)
        if nodes is None:
            (self._mentions_all[kind].add if add else self._mentions_all[kind].discard)(key)
            return
        index = self._mentioned[kind]
        for node in nodes:
            if add:
                add_one(index, node, key)
            else:
                discard_one(index, node, key)
        through = KINDS[kind].mentions_through
        if through is not None:
            for node, ties in through(result).items():
                if add:
                    self._read_whole(kind, key, node, ties)
                else:
                    self._unread_whole(kind, key, node)

    def _read_whole(self, kind: Kind, key: str, node: str, ties: tuple) -> None:
        """The result `key` reads these ties of `node` whole: index it under the node, and the node under whom
        the ties join it to, moving that from the ties indexed before where these are others."""
        add_one(self._through[kind], node, key)
        indexed = self._tied_as[kind]
        held = indexed.get(node)
        if held is ties:
            return
        before = {neighbour for neighbour, _, _ in held} if held is not None else set()
        after = {neighbour for neighbour, _, _ in ties}
        tied = self._tied[kind]
        for neighbour in before - after:
            discard_one(tied, neighbour, node)
        for neighbour in after - before:
            add_one(tied, neighbour, node)
        indexed[node] = ties

    def _unread_whole(self, kind: Kind, key: str, node: str) -> None:
        if discard_one(self._through[kind], node, key):  # its last reader: whom it is tied to is no one's concern
            tied = self._tied[kind]
            for neighbour in {neighbour for neighbour, _, _ in self._tied_as[kind].pop(node)}:
                discard_one(tied, neighbour, node)


_NONE: frozenset = frozenset()  # what `held_by` answers for a user who holds nothing
# One empty result of each type, held for every empty one: most candidate counterparties own nothing, and each
# empty dict costs 64 bytes (an empty sphere, a tuple, is one object already). Results are never changed once
# computed (a recomputation replaces them).
_EMPTY: dict[type, Any] = {dict: {}, StakesAlone: StakesAlone()}


def _discard_from(index: dict[str, set[str]], key: str, item: str) -> bool:
    """Remove `item` from the set under `key`; True when that emptied it (the entry is gone)."""
    held = index.get(key)
    if held is None:
        return False
    held.discard(item)
    if held:
        return False
    del index[key]
    return True
