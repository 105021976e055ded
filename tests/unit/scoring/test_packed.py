"""Event JSON packed against the contract's dictionary (scoring.packed) reads back byte for byte."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, strategies as st

from schemas import parse_event
from scoring.packed import pack, unpack

SEED = Path(__file__).resolve().parents[3] / "examples" / "binance-wlfi.jsonl"


def test_seed_events_read_back_exactly_and_pack_to_under_half():
    lines = [line.encode() for line in SEED.read_text().splitlines() if line.strip()]
    for raw in lines:
        assert unpack(pack(raw)) == raw
        dumped = parse_event(raw).model_dump_json(by_alias=True).encode()
        assert unpack(pack(dumped)) == dumped
    assert sum(len(pack(raw)) for raw in lines) < sum(len(raw) for raw in lines) / 2


@given(st.binary(max_size=5000))
def test_any_bytes_read_back_exactly(data):
    assert unpack(pack(data)) == data


@given(st.binary(max_size=3000))
def test_the_primed_copy_packs_exactly_as_a_fresh_compressor(data):
    import zlib

    from scoring import packed

    fresh = zlib.compressobj(packed._LEVEL, zlib.DEFLATED, packed._WINDOW_BITS, packed._MEMORY_LEVEL,
                             zlib.Z_DEFAULT_STRATEGY, packed._DICTIONARY)
    assert pack(data) == fresh.compress(data) + fresh.flush()
