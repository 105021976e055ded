"""Event JSON kept for later, packed small: the resolution layer holds every current relation's event so that a
merge or split can re-issue it, and reads one back only then.

An event's JSON is mostly the same field names and vocabulary every time, so it is deflated against a preset
dictionary made of the contract itself (one template event, written as `json.dumps` and as pydantic write it): a
600-900 byte event packs to about 100-300 bytes in about 30 µs, and unpacks in a few µs. A plain `zlib.compress`
cannot use that redundancy (each event is too short to repeat itself) and leaves it at about half.

The dictionary is a literal here, not built from the models at import: raw deflate has no checksum, so packed bytes
read back with any other dictionary would come out as garbage without an error, and this source is part of the
code fingerprint that locks a snapshot to the code that wrote it (streams/snapshots.py). Changing the contract
may make the dictionary less apt, never wrong. Packed bytes live only in the version-locked snapshot tier; the
portable tier stores the events themselves.
"""

from __future__ import annotations

import zlib

# a 2 KiB window holds the whole dictionary; larger windows cost more to set up than they gain on short events
_WINDOW_BITS = -11  # raw deflate: no header or checksum (the snapshot file has its own)
_LEVEL = 9
_MEMORY_LEVEL = 4

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
    b'"topics":["gov.national"],"identifiers":[]},"properties":{"percentage":null,"shares_count":null,"amount":null,'
    b'"currency":null,"relationship":null,"role":null,"purpose":null,"summary":null,"confidence_score":null,'
    b'"criteria":null,"matcher":null},"start_date":"2020-01-01","end_date":null,"status":"reported",'
    b'"observed_at":"2020-01-01T00:00:00Z","provenance":{"source_url":"https://","publisher":"publisher",'
    b'"retrieved_at":"2020-01-01T00:00:00Z","extractor":{"name":"extractor","version":"1"},"confidence":0.9,'
    b'"quote":null}}'
)


# Loading the dictionary into a compressor indexes all of it; a copy of one that has it loaded does not (about a
# third of packing an event), and deflates exactly as a fresh one would.
_PRIMED = zlib.compressobj(_LEVEL, zlib.DEFLATED, _WINDOW_BITS, _MEMORY_LEVEL, zlib.Z_DEFAULT_STRATEGY, _DICTIONARY)


def pack(payload: bytes) -> bytes:
    packer = _PRIMED.copy()
    return packer.compress(payload) + packer.flush()


def unpack(packed: bytes) -> bytes:
    unpacker = zlib.decompressobj(_WINDOW_BITS, _DICTIONARY)
    return unpacker.decompress(packed) + unpacker.flush()
