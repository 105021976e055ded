"""Whether a snapshot writer fits in the memory this worker has left: a forked child, or a thread of the worker.

A forked child shares the worker's pages until one of the two writes to one; pickling the state writes to every
object it visits (reference counts), so the pages are copied one by one while the child runs. What both processes
can copy together is bounded by the worker's private anonymous memory (`RssAnon`): at 1M relations a child's own
private pages reached 98 % of it by the end of its write (`bench/snapshot_writers.py`, docs/benchmarks.md). A
child that does not fit gets the worker or itself killed by the kernel's OOM killer (in a container, the cgroup's),
and the restarted worker would load its snapshot and fork again: a crash loop. So the worker forks only when that
much memory, plus a reserve, is left. A thread of the worker copies nothing, but its pickler keeps a table of
every object it wrote: 27 % of `RssAnon` at 1M relations. What the worker does is `streams.app`'s decision
(`snapshot_without_fork_room`).

What is left is the least of the machine's `MemAvailable` and, in a memory-limited cgroup (a container), the
limit minus the cgroup's working set (its usage without inactive file cache, which the kernel reclaims first, as
Docker and Kubernetes count it), for the cgroup and each of its ancestors that can be seen. Linux only: where
these files cannot be read, the room is unknown and the worker forks as it always did.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
CGROUP_ROOT = Path("/sys/fs/cgroup")
# cgroup v1 reports "no limit" as the largest page-aligned 63-bit number
_V1_UNLIMITED = 1 << 62
_MB = 1 << 20
# What a thread write takes, as a share of `RssAnon`: the pickler's table of objects and the file's cache, 27 % at
# 1M relations and 10 % at 50,000 (bench/snapshot_writers.py), with a margin.
THREAD_WRITE_SHARE = 0.35


@dataclass(frozen=True)
class ForkRoom:
    """What a forked writer may copy, against the memory left for it (bytes; None: unknown)."""

    may_copy: int | None  # the worker's private anonymous memory
    available: int | None  # the least room left: machine or cgroup
    limited_by: str  # what `available` was read from: "the machine" or "cgroup <path>"
    reserve: int  # memory to leave free besides
    fork_cap: int | None = None  # a fork is refused above this much private memory, whatever is left (None: no cap)

    @property
    def room(self) -> int | None:
        """What a writer may take: the memory left less the reserve."""
        return None if self.available is None else self.available - self.reserve

    @property
    def fits(self) -> bool:
        """A forked writer fits."""
        if self.may_copy is None:
            return True  # nothing to go by: fork, as on any system without these files
        if self.fork_cap is not None and self.may_copy > self.fork_cap:
            return False
        return self.room is None or self.may_copy <= self.room

    @property
    def fits_thread(self) -> bool:
        """A writer in a thread of the worker fits."""
        if self.may_copy is None or self.room is None:
            return True
        return self.may_copy * THREAD_WRITE_SHARE <= self.room

    def describe(self) -> str:
        def mb(value: int | None) -> str:
            return "unknown" if value is None else f"{value / _MB:,.0f} MB"
        cap = "" if self.fork_cap is None else f", forks capped at {mb(self.fork_cap)}"
        return (f"a forked writer may copy {mb(self.may_copy)}, {mb(self.available)} are left ({self.limited_by}), "
                f"reserve {mb(self.reserve)}{cap}")


def fork_room(reserve: int = 0, fork_cap: int | None = None, proc: Path = PROC,
              cgroup_root: Path = CGROUP_ROOT) -> ForkRoom:
    available, limited_by = available_memory(proc, cgroup_root)
    return ForkRoom(private_memory(proc), available, limited_by, reserve, fork_cap)


def private_memory(proc: Path = PROC) -> int | None:
    """This process's resident private anonymous memory, bytes (`RssAnon`); None where it cannot be read."""
    value = _field(proc / "self" / "status", "RssAnon")
    return None if value is None else value * 1024


def available_memory(proc: Path = PROC, cgroup_root: Path = CGROUP_ROOT) -> tuple[int | None, str]:
    """(bytes left for new pages, what limits it): the machine's MemAvailable or a cgroup's room, the least."""
    found: list[tuple[int, str]] = []
    machine = _field(proc / "meminfo", "MemAvailable")
    if machine is not None:
        found.append((machine * 1024, "the machine"))
    found.extend(_cgroup_rooms(proc, cgroup_root))
    if not found:
        return None, "unknown"
    return min(found)


def _cgroup_rooms(proc: Path, cgroup_root: Path) -> list[tuple[int, str]]:
    """The room left under each memory limit of this process's cgroup and its ancestors (v2 or v1)."""
    try:
        lines = (proc / "self" / "cgroup").read_text().splitlines()
    except (OSError, ValueError):
        return []
    rooms = []
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and controllers == "":
            rooms.extend(_rooms(cgroup_root, path, "memory.max", "memory.current", "inactive_file"))
        elif "memory" in controllers.split(","):
            rooms.extend(_rooms(cgroup_root / "memory", path, "memory.limit_in_bytes", "memory.usage_in_bytes",
                                "total_inactive_file"))
    return rooms


def _rooms(root: Path, path: str, limit_file: str, usage_file: str, inactive_field: str) -> list[tuple[int, str]]:
    """The room under the limit of the cgroup and of each ancestor visible under `root` (v2's files or v1's: in
    both, usage counts the cgroup's descendants too). A v1 cgroup also reports the least limit of its ancestors,
    `hierarchical_memory_limit`, which counts where they are not visible (a container without its own cgroup
    namespace)."""
    rooms = []
    for directory, name in _cgroup_directories(root, path):
        usage = _int(_read(directory / usage_file))
        if usage is None:
            continue
        limits = [_int(_read(directory / limit_file)), _stat(directory / "memory.stat", "hierarchical_memory_limit")]
        limit = min((value for value in limits if value is not None and value < _V1_UNLIMITED), default=None)
        if limit is None:  # v2's "max" reads as no number: no limit here
            continue
        inactive = _stat(directory / "memory.stat", inactive_field) or 0
        rooms.append((max(0, limit - (usage - inactive)), f"cgroup {name}"))
    return rooms


def _cgroup_directories(root: Path, path: str) -> list[tuple[Path, str]]:
    """The directories of a cgroup and its ancestors, itself first. Inside a container with its own cgroup
    namespace the path reads "/" and the mount root is the container's cgroup; on a host the path is below it."""
    parts = [part for part in path.strip("/").split("/") if part]
    found = []
    for depth in range(len(parts), -1, -1):
        directory = root.joinpath(*parts[:depth])
        if directory.is_dir():
            found.append((directory, "/" + "/".join(parts[:depth])))
    return found


def _field(path: Path, name: str) -> int | None:
    """A "Name:   123 kB" field of a /proc file, in its unit (kB)."""
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith(name + ":"):
                    return _int(line.split()[1])
    except (OSError, ValueError, IndexError):  # (a decoding error is a ValueError)
        return None
    return None


def _stat(path: Path, name: str) -> int | None:
    """A "name 123" line of a cgroup's memory.stat."""
    text = _read(path)
    if text is None:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == name:
            return _int(value)
    return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, ValueError):
        return None


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None
