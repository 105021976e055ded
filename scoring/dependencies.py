"""What each cached computation read, so that an event recomputes only what it can change.

Every computation (an actor's scan, a counterparty's group, a pair's score) runs with a `Reads` recorder. It
records six kinds of reads:

- adjacency: "the edges of node N in layer L and direction D";
- hub: "N is a hub in layer L and direction D" (too connected to expand, `SearchContext.entries_unless_hub`): a
  search that met a hub saw nothing of its edges but their number past the guard, so it is recomputed only when
  the node stops being a hub there (`Engine.apply` asks for these readers then), not for every edge the hub gains
  or loses while it stays one;
- presence: "whether N has any edge in layer L and direction D" (e.g. whether a body holds any authority);
- node: "the name, schema or topics of N";
- probe: "the edges between N and other probed nodes" (tie look-ups between two known sets of nodes, which read a
  single adjacency entry, not a whole neighbourhood);
- use of a shared per-node result: "the ties of N", its holdings, stakes or owners (`search.SharedResults`;
  those results are computations of their own here, and their users are recomputed when they change).

A change to relation u -> v in layer L concerns the readers of (u, L, out), (v, L, in), the computations that
probed both u and v, and the hub readers of an end that is no longer a hub; a change that empties or fills an
adjacency list concerns its presence readers; a change to an entity's attributes concerns the readers of that node
and the readers of any of its adjacency lists (hub readers included). This is exact for relations and presence (a
computation that read none of these cannot see the change) and a superset for attributes: a computation that read
a node's adjacency as well as its attributes is not indexed for the attributes (about a third of all reads; names,
schemas and topics change far less often than relations), so an attribute change also recomputes readers of its
adjacency that never looked at the attributes, to the same results. (Authority look-ups between an actor's sources
and a counterparty's holdings are not recorded here: the engine finds the pairs concerned by an authority relation
from its cache store, see `Engine._pairs_steering`.)

Reads of a layer `semantics.READ_WITH` another are indexed under that one's tables (a job's layer under the
payments'): every search that reads the one reads the other, and a change in either concerns the same searches, so
one entry per node serves both (hub reads stay per layer: the guard counts each layer's neighbours).

A recomputed computation is re-registered by difference: only the reads it gained or lost touch the index. A
rebuild registers every computation once, into an empty index: it defers the tables (`DependencyIndex.defer`), which
are then built from the footprints in one pass, not entry by entry (a tenth of a rebuild went to adding them).

Storage is compact because the index is the engine's largest structure: a node read by one computation maps to
that computation's key directly (a tuple for up to `_SMALL` readers, a set only for more), and a footprint is one
flat tuple (the tables of its reads as bytes, shared by the footprints with the same tables, then the nodes).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from itertools import islice
from operator import itemgetter

from scoring.graph import Relation
from scoring.semantics import IN, OUT, READ_WITH, Layer

Key = Hashable  # a tuple whose first item is not a tuple: see `_is_key`


def _code(layer: int, direction: int) -> int:
    """The table of reads of a layer's adjacency in a direction (a layer read with another shares its tables)."""
    return _INDEXED_AS[layer * 2 + direction]


_CODES = len(Layer) * 2
# (layer, direction) code -> the code its reads are indexed under: a layer `READ_WITH` another shares that one's
# entries (a job changes a node's ties as a payment does; one entry per node for both saves one per search of ties)
_INDEXED_AS = tuple(READ_WITH.get(Layer(code // 2), Layer(code // 2)) * 2 + code % 2 for code in range(_CODES))
# Table numbers of the dependency index: adjacency reads by (layer, direction) code, presence reads by
# _CODES + code, then node and probe reads, then uses of the engine's shared per-node results (a node's ties, its
# holdings, its stakes, its owners), which are computations of their own, then hub reads by _HUBS + code.
_NODES, _PROBES = 2 * _CODES, 2 * _CODES + 1
USES_TIES, USES_HOLDINGS, USES_STAKES, USES_OWNERS = 2 * _CODES + 2, 2 * _CODES + 3, 2 * _CODES + 4, 2 * _CODES + 5
_HUBS = 2 * _CODES + 6
_TABLES = 3 * _CODES + 6


class Reads:
    """Recorder for one computation; `visits` counts edges and nodes looked at (the cost metric of an apply).

    `entries` holds every read as (table, node), the table numbering the kind of read (see `DependencyIndex`)."""

    __slots__ = ("entries", "visits")

    def __init__(self):
        self.entries: set[tuple[int, str]] = set()
        self.visits = 0

    def adj(self, node: str, layer: Layer, direction: int) -> None:
        self.entries.add((_INDEXED_AS[layer * 2 + direction], node))
        self.visits += 1

    def hub(self, node: str, layer: Layer, direction: int) -> None:
        """The node was a hub in this layer and direction, and not expanded (a visit, as an adjacency read)."""
        self.entries.add((_HUBS + layer * 2 + direction, node))
        self.visits += 1

    def present(self, node: str, layer: Layer, direction: int) -> None:
        self.entries.add((_CODES + _INDEXED_AS[layer * 2 + direction], node))

    def node(self, node: str) -> None:
        self.entries.add((_NODES, node))

    def probe(self, node: str) -> None:
        self.entries.add((_PROBES, node))

    def uses(self, table: int, node: str) -> None:
        """The computation used a shared per-node result (`USES_TIES`, `USES_HOLDINGS`, ...)."""
        self.entries.add((table, node))


class NullReads(Reads):
    """For one-off computations (full recompute, as-of queries) whose reads nobody needs."""

    __slots__ = ()

    def adj(self, node, layer, direction):
        self.visits += 1

    def hub(self, node, layer, direction):
        self.visits += 1

    def present(self, node, layer, direction):
        pass

    def node(self, node):
        pass

    def probe(self, node):
        pass

    def uses(self, table, node):
        pass


class DependencyIndex:
    def __init__(self):
        # one table per (layer, direction) code for adjacency and presence reads, then nodes, probes, then the uses
        # of shared per-node results
        self._tables: list[dict[str, Key | set]] = [{} for _ in range(_TABLES)]
        self._footprints: dict[Key, tuple | int] = {}
        # one bytes object for each sequence of tables the footprints hold (`_footprint`): about 1,000 distinct
        # ones serve 17,000 footprints of 20,000 relations, which otherwise each hold their own
        self._table_codes: dict[bytes, bytes] = {}
        self.released: list[tuple[int, str]] = []  # shared results that lost their last user (the engine drops them)

    _NODES, _PROBES = _NODES, _PROBES
    # While deferring (`defer`): the keys registered since the tables were last brought up to date, in order. A
    # class default, so that an index outside a rebuild (and its snapshot) holds no such attribute.
    _pending: list[Key] | None = None

    def defer(self) -> None:
        """Until `settle`: a computation registered for the first time has its footprint recorded, and its entries
        join the tables only when something reads them (a look-up of readers, a key registered again or
        unregistered) or at `settle`, all of them at once (`_index_pending`). The tables are then exactly what
        adding the entries one by one, in the order registered, builds (a rebuild registers each of its hundreds
        of thousands of computations once, with five to ten entries each)."""
        if self._pending is None:
            self._pending = []

    def settle(self) -> None:
        """Bring the tables up to date and stop deferring."""
        if self._pending is not None:
            self._index_pending()
            del self._pending  # (back to the class default)

    def register(self, key: Key, reads: Reads) -> None:
        """Record what the computation `key` read, replacing what it read before. Re-registering only touches the
        index entries that differ (most recomputations read almost the same things again)."""
        entries = _without_covered_node_reads(reads.entries)
        held = self._footprints.get(key)
        footprint = _footprint(entries, key, self._table_codes) if entries else None
        if footprint == held:
            return  # read the same again, in the same order (most recomputations): nothing to move
        pending = self._pending
        if pending is not None:
            if held is None:  # (footprint is not None: it differs from held)
                self._footprints[key] = footprint
                pending.append(key)
                return
            if pending:
                self._index_pending()
        tables = self._tables
        if held is None:
            added, removed = entries, ()
        else:
            old = set(_reads(held, key))
            added, removed = entries - old, old - entries
        for table, node in removed:
            _discard(tables[table], node, key)
            if USES_TIES <= table < _HUBS and node not in tables[table]:
                self.released.append((table, node))
        for table, node in added:
            _add(tables[table], node, key)
        if footprint is not None:
            self._footprints[key] = footprint
        elif held is not None:
            del self._footprints[key]

    def unregister(self, key: Key) -> None:
        footprint = self._footprints.pop(key, None)
        if footprint is None:
            return
        if self._pending:
            self._footprints[key] = footprint  # (its entries may be pending: indexed with the others first)
            self._index_pending()
            del self._footprints[key]
        tables = self._tables
        for table, node in _reads(footprint, key):
            _discard(tables[table], node, key)
            if USES_TIES <= table < _HUBS and node not in tables[table]:
                self.released.append((table, node))

    def reads_of(self, key: Key) -> list[tuple[int, str]] | None:
        """What the computation `key` read, as its index holds it (a node's attributes left out where its adjacency
        was read: `_without_covered_node_reads`); None if it is not registered."""
        footprint = self._footprints.get(key)
        return None if footprint is None else list(_reads(footprint, key))

    def registered(self, key: Key) -> bool:
        return key in self._footprints

    def readers_of_relation(self, rec: Relation) -> set[Key]:
        if self._pending:
            self._index_pending()
        layer = rec.layer
        found: set[Key] = set()
        _collect(found, self._tables[_code(layer, OUT)], rec.source)
        _collect(found, self._tables[_code(layer, IN)], rec.target)
        probing_source = _as_set(self._tables[self._PROBES].get(rec.source))
        if probing_source:
            probing_target = _as_set(self._tables[self._PROBES].get(rec.target))
            if probing_target:
                found.update(probing_source & probing_target)
        return found

    def users_of(self, table: int, node: str) -> set[Key]:
        """The computations that used a shared per-node result (`USES_TIES`, `USES_HOLDINGS`, ...)."""
        if self._pending:
            self._index_pending()
        return set(_as_set(self._tables[table].get(node)))

    def readers_of_presence(self, node: str, layer: Layer, direction: int) -> set[Key]:
        if self._pending:
            self._index_pending()
        return set(_as_set(self._tables[_CODES + _code(layer, direction)].get(node)))

    def readers_of_hub(self, node: str, layer: Layer, direction: int) -> set[Key]:
        """The computations that found the node a hub in this layer and direction and did not expand it."""
        if self._pending:
            self._index_pending()
        return set(_as_set(self._tables[_HUBS + layer * 2 + direction].get(node)))  # (a hub is one layer's)

    def readers_of_entities(self, entity_ids: Iterable[str]) -> set[Key]:
        """Computations that may have read these entities' attributes: the node's readers, and its adjacency and hub
        readers (see `_without_covered_node_reads`; whether a node is expanded depends on its schema too)."""
        if self._pending:
            self._index_pending()
        found: set[Key] = set()
        tables = self._tables
        for entity_id in entity_ids:
            _collect(found, tables[self._NODES], entity_id)
            for code in range(_CODES):
                _collect(found, tables[code], entity_id)
                _collect(found, tables[_HUBS + code], entity_id)
        return found

    def _index_pending(self) -> None:
        """Add the entries of the keys registered while deferring to the tables, as `_add` one by one in the order
        registered would: a node's keys are gathered in that order first (the nodes of a table in the order they
        first came), then a node the table did not hold takes them at once as `_add` leaves them (its one key, a
        tuple of up to `_SMALL`, else a set built in the same order), and one it held takes them by `_add`."""
        pending, self._pending = self._pending, []
        footprints, tables = self._footprints, self._tables
        gathered: list[dict] = [{} for _ in range(_TABLES)]
        for key in pending:
            footprint = footprints[key]
            if type(footprint) is int:
                reads = ((footprint, key[1]),)
            else:
                reads = zip(footprint[0], islice(footprint, 1, None))
            for table, node in reads:
                keys = gathered[table]
                held = keys.get(node)
                if held is None:
                    keys[node] = key
                elif type(held) is list:
                    held.append(key)
                else:
                    keys[node] = [held, key]
        for number, keys in enumerate(gathered):
            if not keys:
                continue
            table = tables[number]
            if not table:  # (a rebuild's: the gathered dict becomes the table, its values replaced in place)
                for node, held in keys.items():
                    if type(held) is list:
                        keys[node] = tuple(held) if len(held) <= _SMALL else set(held)
                tables[number] = keys
                continue
            for node, held in keys.items():
                if node in table:
                    for key in held if type(held) is list else (held,):
                        _add(table, node, key)
                elif type(held) is list:
                    table[node] = tuple(held) if len(held) <= _SMALL else set(held)
                else:
                    table[node] = held

    def __len__(self) -> int:
        return len(self._footprints)

    def entries(self) -> int:
        """Index entries held (a memory metric; O(computations))."""
        return sum(1 if type(f) is int else len(f) - 1 for f in self._footprints.values())


# A table maps a node to one reader key, to a tuple of a few keys, or to a set of many: most nodes are read by one
# or two computations, and a set costs 216 bytes where a key costs nothing and a pair of keys 56. Keys are tuples
# whose first item is not a tuple (the engine's: its `caches.Kind`), so a key is never mistaken for a tuple of keys.

_SMALL = 32


def _without_covered_node_reads(entries: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """The reads to index: a node's attributes are not indexed for a computation that also read one of the
    node's adjacency lists or found it a hub, since `readers_of_entities` looks there too (most searches read the
    attributes of the nodes they expand, and the index is the engine's largest structure)."""
    expanded = {node for table, node in entries if table < _CODES or table >= _HUBS}
    if not expanded:
        return entries
    return {entry for entry in entries if entry[0] != _NODES or entry[1] not in expanded}


def _footprint(entries: set[tuple[int, str]], key: Key, table_codes: dict[bytes, bytes]) -> tuple | int:
    """What `_reads` takes apart: one flat tuple, or for a computation that read one thing of its own node (what a
    company that owns nothing owns: its out-edges; a quarter of all computations) the table alone, a small int
    that costs nothing where the tuple and its bytes cost 112.

    The reads are ordered by table, so that the tables come out as one of few sequences ("three adjacency reads
    and a use of holdings"), each held once in `table_codes` and shared by every footprint that has it: a bytes
    object of its own cost each footprint 40-56 bytes, and a snapshot one more object to write and rebuild."""
    if len(entries) == 1:
        ((table, node),) = entries
        if len(key) == 2 and node == key[1]:
            return table
    tables, nodes = zip(*sorted(entries, key=_table_of))
    code = bytes(tables)
    shared = table_codes.get(code)
    if shared is None:
        if len(table_codes) >= _TABLE_CODES_HELD:
            # sequences no footprint uses any more are never looked for: forgetting them all now and then bounds
            # the table (the footprints keep theirs; new ones share anew)
            table_codes.clear()
        table_codes[code] = shared = code
    return shared, *nodes


_table_of = itemgetter(0)
# a few thousand distinct sequences serve a worker's footprints; the table is cleared when it holds this many
_TABLE_CODES_HELD = 1 << 14


def _reads(footprint: tuple | int, key: Key) -> Iterable[tuple[int, str]]:
    """(table, node) of a footprint: one flat tuple, the tables as bytes first, then the nodes in the same order;
    or the table of the one read of the key's own node."""
    if type(footprint) is int:
        return ((footprint, key[1]),)
    return zip(footprint[0], islice(footprint, 1, None))


def _is_key(held) -> bool:
    return type(held[0]) is not tuple


def _add(table: dict, node: str, key: Key) -> None:
    held = table.get(node)
    if held is None:
        table[node] = key
    elif type(held) is set:
        held.add(key)
    elif _is_key(held):
        if held != key:
            table[node] = (held, key)
    elif key not in held:
        table[node] = (*held, key) if len(held) < _SMALL else {*held, key}


def _discard(table: dict, node: str, key: Key) -> None:
    held = table.get(node)
    if held is None:
        return
    if type(held) is set:
        held.discard(key)
        if len(held) <= _SMALL:
            table[node] = tuple(held) if len(held) > 1 else next(iter(held), None)
            if table[node] is None:
                del table[node]
    elif _is_key(held):
        if held == key:
            del table[node]
    elif key in held:
        rest = tuple(k for k in held if k != key)
        table[node] = rest if len(rest) > 1 else rest[0]


def _as_set(held) -> set:
    if held is None:
        return set()
    if type(held) is set:
        return held
    return {held} if _is_key(held) else set(held)


def _collect(found: set, table: dict, node: str) -> None:
    held = table.get(node)
    if held is None:
        return
    if type(held) is set or not _is_key(held):
        found.update(held)
    else:
        found.add(held)
