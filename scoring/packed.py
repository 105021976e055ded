"""Event JSON kept for later, packed small: the resolution layer holds every current relation's event so that a
merge or split can re-issue it, and reads one back only then.

Events are deflated in blocks of `BLOCK_SIZE`, in the order they arrive, against a preset dictionary made of the
contract itself (one template event, written as `json.dumps` and as pydantic write it). Packed one by one, an event
of 600-900 bytes came to 100-300 bytes in a `bytes` object of its own (33 bytes of header, rounded up by the
allocator) and took 15-20 us; a block also deflates what neighbouring events repeat (provenance, publishers,
names of one register), and holds one object for 64 events: a quarter to a third of the bytes (42 bytes an event of
the synthetic register against 171; real FtM events, 275 against 959) and a third of the time
(`bench/load_phases.py`). Reading one back inflates its block (about 20 us); the last block read is kept inflated,
so reading many grouped by block (the portable export does) inflates each block once.

A superseded event's bytes stay in its block until the block is mostly superseded: when fewer than a quarter of
a sealed block's entries are live, they move to the open block and the old one is dropped, and an open block that
fills with fewer live entries than that passes them on instead of being sealed. Every sealed block thus holds at
least a quarter live entries, and what is held stays within four times what is live plus the open block, whatever
the order of updates.

The dictionary is a literal here, not built from the models at import: raw deflate has no checksum, so packed bytes
read back with any other dictionary would come out as garbage without an error, and this source is part of the
code fingerprint that locks a snapshot to the code that wrote it (streams/snapshots.py). Changing the contract
may make the dictionary less apt, never wrong. Packed bytes live only in the version-locked snapshot tier; the
portable tier stores the events themselves.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

from scoring.records import pickled_as_values

BLOCK_SIZE = 64
_LIVE_FLOOR = BLOCK_SIZE // 4  # a sealed block with fewer live entries gives them to the open block

# a 32 KiB window: a block's events are about as long, and deflate finds what they repeat across the whole block
_WINDOW_BITS = -15  # raw deflate: no header or checksum (the snapshot file has its own)
_LEVEL = 6  # level 9 packs a block about 7 % smaller at three times the time
_MEMORY_LEVEL = 8

# the likelier spelling (pydantic's, as the worker re-serialises) last: deflate prefers the nearest match
_DICTIONARY = (
    b'{"schema_version": "1.1", "event_id": "event", "op": "upsert", "relation_id": "relation", '
    b'"relation_type": "ownership", "source": {"id": "source", "schema": "Person", "name": "Name", "aliases": [], '
    b'"topics": ["role.pep"], "identifiers": []}, "target": {"id": "target", "schema": "Company", "name": "Name", '
    b'"aliases": [], "topics": ["gov.national"], "identifiers": []}, "properties": {}, "start_date": "2020-01-01", '
    b'"status": "reported", "observed_at": "2020-01-01T00:00:00Z", "provenance": {"source_url": "https://", '
    b'"publisher": "publisher", "retrieved_at": "2020-01-01T00:00:00Z", "extractor": {"name": "extractor", '
    b'"version": "1"}, "confidence": 0.9}}'
    b'{"schema_version":"1.1","event_id":"event","op":"upsert","relation_id":"relation","relation_type":"ownership",'
    b'"source":{"id":"source","schema":"Person","name":"Name","aliases":[],"country":null,"topics":["role.pep"],'
    b'"identifiers":[]},"target":{"id":"target","schema":"Company","name":"Name","aliases":[],"country":null,'
    b'"topics":["gov.national"],"identifiers":[]},"properties":{"percentage":null,"percentage_max":null,'
    b'"shares_count":null,"amount":null,"currency":null,"relationship":null,"role":null,"purpose":null,'
    b'"summary":null,"confidence_score":null,"criteria":null,"matcher":null},"start_date":"2020-01-01",'
    b'"end_date":null,"status":"reported",'
    b'"observed_at":"2020-01-01T00:00:00Z","provenance":{"source_url":"https://","publisher":"publisher",'
    b'"retrieved_at":"2020-01-01T00:00:00Z","extractor":{"name":"extractor","version":"1"},"confidence":0.9,'
    b'"quote":null}}'
)

# Loading the dictionary into a compressor indexes all of it; a copy of one that has it loaded does not, and
# deflates exactly as a fresh one would.
_PRIMED = zlib.compressobj(_LEVEL, zlib.DEFLATED, _WINDOW_BITS, _MEMORY_LEVEL, zlib.Z_DEFAULT_STRATEGY, _DICTIONARY)


def deflate(payload: bytes) -> bytes:
    packer = _PRIMED.copy()
    return packer.compress(payload) + packer.flush()


def inflate(packed: bytes) -> bytes:
    unpacker = zlib.decompressobj(_WINDOW_BITS, _DICTIONARY)
    return unpacker.decompress(packed) + unpacker.flush()


@pickled_as_values
class Block:
    """Up to `BLOCK_SIZE` events. `data` is the list of their JSON while the block is open, and once sealed, one
    deflated string: the entries' lengths (4 bytes each, little-endian), then the entries. `owners` names the
    relation each entry belongs to, None once it is superseded (its bytes are then dropped at the seal)."""

    __slots__ = ("data", "owners")

    def __init__(self, data: list[bytes] | bytes, owners: list[str | None]):
        self.data = data
        self.owners = owners

    @property
    def sealed(self) -> bool:
        return type(self.data) is bytes

    def live(self) -> int:
        return sum(owner is not None for owner in self.owners)


Moved = tuple[str, Block, int]  # an entry moved out of a mostly superseded block: (owner, its block, its slot)


class PackedEvents:
    """The events of the current relations, in blocks. An entry is addressed by (block, slot), which the caller
    keeps. Each owner has at most one live entry: `release` its old one before you `add` the new one. Both return
    the entries they moved, (owner, block, slot) in the order they moved, for the caller to re-address: a release
    that leaves a sealed block mostly superseded moves its live entries to the open block, and an open block that
    fills while mostly superseded moves them to the next one rather than being sealed."""

    __slots__ = ("_open", "_inflated")

    def __init__(self):
        self._open = Block([], [])
        self._inflated: tuple[Block, list[bytes]] | None = None  # the last sealed block read, as its entries

    def __getstate__(self):
        return (self._open,)

    def __setstate__(self, state):
        (self._open,) = state
        self._inflated = None

    def add(self, owner: str, payload: bytes) -> tuple[Block, int, Sequence[Moved]]:
        """The new entry's address, and the other entries that moved."""
        block = self._open
        if len(block.owners) < BLOCK_SIZE - 1:  # 63 times in 64: the block does not fill, nothing moves
            block.data.append(payload)
            block.owners.append(owner)
            return block, len(block.owners) - 1, ()
        moved: list[Moved] = []
        self._append(owner, payload, moved)
        # the new entry's last move is its address (it moves on if it filled a mostly superseded block)
        _, block, slot = next(move for move in reversed(moved) if move[0] == owner)
        return block, slot, [move for move in moved if move[0] != owner]

    def read(self, block: Block, slot: int) -> bytes:
        if not block.sealed:
            return block.data[slot]
        return self._entries(block)[slot]

    def release(self, block: Block, slot: int) -> Sequence[Moved]:
        """The entry is superseded: its relation now has another version (or none)."""
        block.owners[slot] = None
        if not block.sealed:
            block.data[slot] = b""
            return ()
        live = block.live()
        if not live or live >= _LIVE_FLOOR:
            return ()
        moved: list[Moved] = []
        self._move_live(block, self._entries(block), moved)
        return moved

    def _append(self, owner: str, payload: bytes, moved: list[Moved]) -> None:
        block = self._open
        block.data.append(payload)
        block.owners.append(owner)
        moved.append((owner, block, len(block.owners) - 1))
        if len(block.owners) < BLOCK_SIZE:
            return
        self._open = Block([], [])
        if block.live() >= _LIVE_FLOOR:
            self._seal(block)
        else:  # sealing it would keep 64 entries for a few live ones, for as long as they stay
            self._move_live(block, block.data, moved)

    def _move_live(self, block: Block, entries: list[bytes], moved: list[Moved]) -> None:
        """Move the live entries of a mostly superseded block to the open block; the block is then dropped (nothing
        addresses it once the caller has re-addressed the entries)."""
        for slot, owner in enumerate(block.owners):
            if owner is not None:
                block.owners[slot] = None
                self._append(owner, entries[slot], moved)

    def _seal(self, block: Block) -> None:
        entries = [entry if owner is not None else b"" for entry, owner in zip(block.data, block.owners)]
        block.data = deflate(struct.pack(f"<{len(entries)}I", *map(len, entries)) + b"".join(entries))
        self._inflated = (block, entries)

    def _entries(self, block: Block) -> list[bytes]:
        if self._inflated is not None and self._inflated[0] is block:
            return self._inflated[1]
        raw = inflate(block.data)
        count = len(block.owners)
        entries, start = [], 4 * count
        for length in struct.unpack_from(f"<{count}I", raw):
            entries.append(raw[start:start + length])
            start += length
        self._inflated = (block, entries)
        return entries
