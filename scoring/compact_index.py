"""Compact one-to-many indexes of strings: key -> its one item (the str itself), a tuple of a few, or a set of many.

Most keys of the engine's and the resolution layer's reverse indexes have one item or a few: a set costs 216 bytes
and more (and is slow to rebuild from a snapshot), a reference 8, a tuple of two 56. Order among items is not
kept: readers that need an order sort.
"""

from __future__ import annotations

from collections.abc import Collection

SMALL = 32  # items kept in a tuple up to this many; a set beyond


def members(held: str | tuple[str, ...] | set[str] | None) -> Collection[str]:
    """The items of an entry (read only)."""
    if held is None:
        return ()
    return (held,) if type(held) is str else held


def add_one(index: dict, key: str, item: str) -> None:
    held = index.get(key)
    if held is None:
        index[key] = item
    elif type(held) is str:
        if held != item:
            index[key] = (held, item)
    elif type(held) is set:
        held.add(item)
    elif item not in held:
        index[key] = (*held, item) if len(held) < SMALL else {*held, item}


def discard_one(index: dict, key: str, item: str) -> bool:
    """Remove `item` under `key`; True when that left nothing (the entry is gone)."""
    held = index.get(key)
    if held is None:
        return False
    if type(held) is str:
        if held != item:
            return False
        del index[key]
        return True
    if type(held) is set:
        held.discard(item)
        if len(held) <= SMALL:
            index[key] = tuple(held)
    elif item in held:
        rest = tuple(other for other in held if other != item)
        index[key] = rest if len(rest) > 1 else rest[0]
    return False
