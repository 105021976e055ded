"""Event JSON packed in blocks against the contract's dictionary (scoring.packed) reads back byte for byte, and
what the blocks hold stays bounded by what is live, whatever the order of updates."""

from __future__ import annotations

import pickle
import zlib
from pathlib import Path

from hypothesis import given, settings, strategies as st

from schemas import parse_event
from scoring import packed
from scoring.packed import BLOCK_SIZE, PackedEvents, deflate, inflate

SEED = Path(__file__).resolve().parents[3] / "examples" / "binance-wlfi.jsonl"


def test_seed_events_read_back_exactly_and_a_block_packs_them_to_under_a_quarter():
    lines = [line.encode() for line in SEED.read_text().splitlines() if line.strip()]
    payloads = [raw for raw in lines] + [parse_event(raw).model_dump_json(by_alias=True).encode() for raw in lines]
    payloads = (payloads * (BLOCK_SIZE // len(payloads) + 1))[:BLOCK_SIZE]
    events = PackedEvents()
    addresses = [events.add(f"r{number}", payload)[:2] for number, payload in enumerate(payloads)]
    block = addresses[0][0]
    assert block.sealed and all(address[0] is block for address in addresses)
    assert len(block.data) < sum(map(len, payloads)) / 4
    fresh = PackedEvents()  # nothing inflated yet: the block is read from its bytes
    assert [fresh.read(*address) for address in addresses] == payloads
    assert [events.read(*address) for address in addresses] == payloads


@given(st.binary(max_size=5000))
def test_any_bytes_deflate_and_inflate_exactly(data):
    assert inflate(deflate(data)) == data


@given(st.binary(max_size=3000))
def test_the_primed_copy_deflates_exactly_as_a_fresh_compressor(data):
    fresh = zlib.compressobj(packed._LEVEL, zlib.DEFLATED, packed._WINDOW_BITS, packed._MEMORY_LEVEL,
                             zlib.Z_DEFAULT_STRATEGY, packed._DICTIONARY)
    assert deflate(data) == fresh.compress(data) + fresh.flush()


class Relations:
    """Relations whose newest events a `PackedEvents` holds, updated as the resolution layer does it: release the
    old entry, add the new one, re-address what moved (in order: the last move counts)."""

    def __init__(self):
        self.events = PackedEvents()
        self.addresses: dict[str, tuple] = {}
        self.newest: dict[str, bytes] = {}

    def update(self, owner: str, payload: bytes) -> None:
        held = self.addresses.get(owner)
        moved = () if held is None else self.events.release(*held)
        block, slot, more = self.events.add(owner, payload)
        self.addresses[owner] = (block, slot)
        self.newest[owner] = payload
        for moved_owner, block, slot in (*moved, *more):
            assert moved_owner != owner and moved_owner in self.addresses
            self.addresses[moved_owner] = (block, slot)

    def check(self) -> None:
        """Every relation reads back its newest event, also from a store that inflated nothing yet; every address
        is its owner's; the blocks addressed hold at most four entries per live one, plus the open block."""
        assert {owner: self.events.read(*address) for owner, address in self.addresses.items()} == self.newest
        assert {owner: PackedEvents().read(*address) for owner, address in self.addresses.items()} == self.newest
        for owner, (block, slot) in self.addresses.items():
            assert block.owners[slot] == owner
        blocks = {id(block): block for block, _ in self.addresses.values()}
        assert all(block.live() >= BLOCK_SIZE // 4 for block in blocks.values() if block.sealed)
        assert sum(len(block.owners) for block in blocks.values()) <= 4 * len(self.addresses) + BLOCK_SIZE


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.binary(max_size=60)), min_size=1, max_size=900),
       st.integers(0, 900))
def test_updates_in_any_order_read_back_the_newest_and_hold_at_most_four_times_what_is_live(updates, pickled_at):
    """Also after a pickle round trip midway (a snapshot of the layer)."""
    relations = Relations()
    for step, (number, payload) in enumerate(updates):
        if step == pickled_at:
            relations = pickle.loads(pickle.dumps(relations))
        relations.update(f"r{number}", payload)
    relations.check()


def test_a_mostly_superseded_block_moves_its_live_entries_and_is_dropped():
    relations = Relations()
    for n in range(BLOCK_SIZE):
        relations.update(f"r{n}", f"event {n}".encode())
    first = relations.addresses["r0"][0]
    assert first.sealed
    superseded = BLOCK_SIZE - BLOCK_SIZE // 4 + 1  # leaves a quarter of the entries less one live
    for n in range(superseded):
        relations.update(f"r{n}", f"event {n} again".encode())
    assert first.live() == 0
    assert all(relations.addresses[f"r{n}"][0] is not first for n in range(BLOCK_SIZE))
    relations.check()


def test_bursts_of_updates_do_not_leave_blocks_with_a_few_live_entries():
    """Blocks that fill while mostly superseded already: a relation updated all the time beside relations stated
    once between its versions, and relations each updated in one burst and never again. Sealed as they are, every
    such block would stay, 64 entries for one or two live ones."""
    relations = Relations()
    for stale in range(40):
        relations.update(f"stale{stale}", f"stated once {stale}".encode())
        for version in range(BLOCK_SIZE - 1):
            relations.update("hot", f"version {stale}.{version}".encode())
    relations.check()
    for burst in range(14):
        for version in range(BLOCK_SIZE - 1):
            relations.update(f"burst{burst}", f"burst {burst}.{version}".encode())
        relations.update(f"once{burst}", f"once {burst}".encode())
    relations.check()
    for version in range(3 * BLOCK_SIZE + 5):  # one relation alone, far past a block
        relations.update("alone", f"alone {version}".encode())
    relations.check()
