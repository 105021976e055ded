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
    addresses = [events.add(f"r{number}", payload) for number, payload in enumerate(payloads)]
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


def _reachable_entries(addresses: dict) -> int:
    blocks = {id(block): block for block, _ in addresses.values()}
    return sum(len(block.owners) for block in blocks.values())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.binary(max_size=60)), min_size=1, max_size=900),
       st.integers(0, 900))
def test_updates_in_any_order_read_back_the_newest_and_hold_at_most_four_times_what_is_live(updates, pickled_at):
    """Relations updated in any order, as the layer does it: add the new version, release the old one, re-address
    what the release moved. Every relation reads back its newest payload, also after a pickle round trip midway, and
    the blocks still addressed hold at most four entries per live one (plus the open block)."""
    events = PackedEvents()
    addresses: dict[str, tuple] = {}
    newest: dict[str, bytes] = {}
    for step, (number, payload) in enumerate(updates):
        if step == pickled_at:
            events, addresses = pickle.loads(pickle.dumps((events, addresses)))
        owner = f"r{number}"
        held = addresses.get(owner)
        addresses[owner] = events.add(owner, payload)
        newest[owner] = payload
        if held is not None:
            for moved_owner, block, slot in events.release(*held):
                assert moved_owner != owner and addresses[moved_owner] is not None
                addresses[moved_owner] = (block, slot)
    assert {owner: events.read(*address) for owner, address in addresses.items()} == newest
    assert {owner: PackedEvents().read(*address) for owner, address in addresses.items()
            if address[0].sealed} == {owner: newest[owner] for owner, address in addresses.items()
                                      if address[0].sealed}
    for owner, (block, slot) in addresses.items():
        assert block.owners[slot] == owner
    assert _reachable_entries(addresses) <= 4 * len(addresses) + BLOCK_SIZE


def test_a_mostly_superseded_block_moves_its_live_entries_and_is_dropped():
    events = PackedEvents()
    addresses = {f"r{n}": events.add(f"r{n}", f"event {n}".encode()) for n in range(BLOCK_SIZE)}
    first = addresses["r0"][0]
    assert first.sealed
    moved = []
    for n in range(BLOCK_SIZE - BLOCK_SIZE // 4 + 1):  # leaves a quarter of the entries less one live
        owner = f"r{n}"
        held = addresses[owner]
        addresses[owner] = events.add(owner, f"event {n} again".encode())
        moved += events.release(*held)
    assert sorted(owner for owner, _, _ in moved) == sorted(f"r{n}" for n in range(BLOCK_SIZE - BLOCK_SIZE // 4 + 1,
                                                                                   BLOCK_SIZE))
    assert all(block is not first for _, block, _ in moved)
    assert first.live() == 0
    for owner, block, slot in moved:
        assert events.read(block, slot) == f"event {owner[1:]}".encode()


def test_entries_left_behind_by_a_hot_relation_do_not_keep_their_blocks():
    """Each block holds one relation stated once and 63 versions of one relation updated all the time: without
    moving the live entries out, every block would stay, 64 entries for each live one."""
    events = PackedEvents()
    addresses: dict[str, tuple] = {}

    def update(owner: str, payload: bytes) -> None:
        held = addresses.get(owner)
        addresses[owner] = events.add(owner, payload)
        for moved_owner, block, slot in events.release(*held) if held else ():
            addresses[moved_owner] = (block, slot)

    for stale in range(40):
        update(f"stale{stale}", f"stated once {stale}".encode())
        for version in range(BLOCK_SIZE - 1):
            update("hot", f"version {stale}.{version}".encode())
    assert _reachable_entries(addresses) <= 4 * len(addresses) + BLOCK_SIZE
    assert [events.read(*addresses[f"stale{n}"]) for n in range(40)] == [f"stated once {n}".encode()
                                                                         for n in range(40)]
