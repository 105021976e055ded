"""`coi-risk produce` without a broker: reading a line's key never fails, whatever the line."""

from __future__ import annotations

from streams.commands.produce import relation_key


def test_the_key_of_a_valid_line_is_its_relation_id():
    assert relation_key(b'{"relation_id": "r-1", "relation_type": "ownership"}') == (b"r-1", "ownership")


def test_an_unreadable_line_is_sent_unkeyed_for_the_worker_to_dead_letter():
    for line in (b"[" * 100_000, b"\xff\xfe", b"{not json", b"[1, 2]", b'{"relation_id": 7}'):
        assert relation_key(line)[0] is None, line[:20]
