"""Slotted records that pickle as the tuple of their values.

A snapshot (streams/snapshots.py) holds millions of slotted records: a relation, an entity and the resolution
layer's bookkeeping for each, and the cached results built of them. By default pickle stores a slotted object's
state as a dict of slot name -> value, and unpickling builds that dict and then sets each slot by name; a frozen
dataclass goes through `dataclasses`' generic loop over its fields. Both cost more than the record itself is
worth: on a restart with 1M relations they were about a third of loading the snapshot. `pickled_as_values` gives a
class a `__getstate__` that returns its values in slot order and a `__setstate__` generated for exactly its slots
(one unpacking assignment), which makes the state smaller and unpickling it about twice as fast.

A record is pickled as its class and its values as "list items" (`__reduce_ex__`), which the unpickler hands to
`extend` (the same assignment) in a list it frees at once. A state tuple for `__setstate__` would be one more
object in the pickle, and the unpickler's memo keeps every pickled tuple until the whole snapshot is loaded: freed
only then, between the objects that stay, those tuples left about a fifth of a restored worker's memory as holes
(`bench/snapshot_load.py`: the allocator's free blocks).

Every slot must be set on every instance (an unset slot makes pickling fail, loudly, in the snapshot writer).
"""

from __future__ import annotations

import copy
import copyreg
import dataclasses
from operator import attrgetter


def pickled_as_values(cls: type) -> type:
    """Class decorator (outermost, above `@dataclass`): pickle instances as the tuple of their slot values."""
    if dataclasses.is_dataclass(cls):
        names = tuple(f.name for f in dataclasses.fields(cls))
        frozen = cls.__dataclass_params__.frozen
    else:
        names = _all_slots(cls)
        frozen = False
    if set(names) != set(_all_slots(cls)):
        raise TypeError(f"{cls.__name__}: every field must be a slot of its own to be pickled as values")
    values = attrgetter(*names)
    if len(names) == 1:
        def __getstate__(self):
            return (values(self),)
    else:
        def __getstate__(self):
            return values(self)
    targets = ", ".join(f"v{i}" for i in range(len(names)))
    if frozen:  # a frozen dataclass refuses attribute assignment: set its slots through object's own setter
        body = "".join(f"    _set(self, {name!r}, v{i})\n" for i, name in enumerate(names))
    else:
        body = "".join(f"    self.{name} = v{i}\n" for i, name in enumerate(names))
    namespace: dict = {"_set": object.__setattr__}
    exec(f"def __setstate__(self, state):\n    {targets}, = state\n{body}", namespace)  # noqa: S102 - names are slots
    __setstate__ = namespace["__setstate__"]

    def __reduce_ex__(self, protocol):
        # (NEWOBJ with no arguments, then the values pushed as list items: no container the memo would keep)
        return copyreg.__newobj__, (type(self),), None, iter(self.__getstate__())

    def __copy__(self):
        duplicate = object.__new__(type(self))
        duplicate.__setstate__(self.__getstate__())
        return duplicate

    def __deepcopy__(self, memo):
        duplicate = memo[id(self)] = object.__new__(type(self))
        duplicate.__setstate__(copy.deepcopy(self.__getstate__(), memo))
        return duplicate

    for name, method in (("__getstate__", __getstate__), ("__setstate__", __setstate__),
                         ("__reduce_ex__", __reduce_ex__), ("__copy__", __copy__), ("__deepcopy__", __deepcopy__)):
        method.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, method)
    cls.extend = __setstate__  # what the unpickler calls with the values (`__reduce_ex__`)
    return cls


def _all_slots(cls: type) -> tuple[str, ...]:
    """The slots of the class and of the classes it derives from, base first (a subclass adds slots of its own)."""
    return tuple(name for klass in reversed(cls.__mro__) for name in klass.__dict__.get("__slots__", ()))
