"""Event JSON kept for later, packed small: the resolution layer holds every current relation's event so that a
merge or split can re-issue it, and reads one back only then.

An event's JSON is mostly the same field names and vocabulary every time, so it is deflated against a preset
dictionary made of the contract itself (one template event, written as pydantic and as `json.dumps` write it):
a 600-900 byte event packs to about 100-300 bytes in about 20 µs, and unpacks in a few µs. A plain `zlib.compress`
cannot use that redundancy (each event is too short to repeat itself) and leaves it at about half.

Packed bytes are only ever read back by the same code (they live in the version-locked snapshot tier; the
portable tier stores the events themselves), so the dictionary may change with the contract.
"""

from __future__ import annotations

import json
import zlib

from schemas.events import SCHEMA_VERSION, RelationshipEvent

# a 2 KiB window holds the whole dictionary; larger windows cost more to set up than they gain on short events
_WINDOW_BITS = -11  # raw deflate: no header or checksum (the snapshot file has its own)
_LEVEL = 9
_MEMORY_LEVEL = 4


def _template() -> bytes:
    """One event naming every field of the contract, in both spellings the input meets."""
    event = RelationshipEvent.model_validate({
        "schema_version": SCHEMA_VERSION, "event_id": "event", "op": "upsert", "relation_id": "relation", "relation_type": "ownership",
        "source": {"id": "source", "schema": "Person", "name": "Name", "topics": ["role.pep"]},
        "target": {"id": "target", "schema": "Company", "name": "Name", "topics": ["gov.national"]},
        "start_date": "2020-01-01", "status": "reported", "observed_at": "2020-01-01T00:00:00Z",
        "provenance": {"source_url": "https://", "publisher": "publisher", "retrieved_at": "2020-01-01T00:00:00Z",
                       "extractor": {"name": "extractor", "version": "1"}, "confidence": 0.9},
    })
    compact = event.model_dump_json(by_alias=True).encode()
    spaced = json.dumps(event.model_dump(mode="json", by_alias=True, exclude_none=True)).encode()
    return spaced + compact  # the likelier spelling last: deflate prefers the nearest match


_DICTIONARY = _template()


def pack(payload: bytes) -> bytes:
    packer = zlib.compressobj(_LEVEL, zlib.DEFLATED, _WINDOW_BITS, _MEMORY_LEVEL, zlib.Z_DEFAULT_STRATEGY,
                              _DICTIONARY)
    return packer.compress(payload) + packer.flush()


def unpack(packed: bytes) -> bytes:
    unpacker = zlib.decompressobj(_WINDOW_BITS, _DICTIONARY)
    return unpacker.decompress(packed) + unpacker.flush()
