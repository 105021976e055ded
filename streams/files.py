"""Files written whole or not at all, and never through a link planted under their name or beside them.

The new content goes to a temporary file in the target's directory, created afresh (`O_EXCL | O_NOFOLLOW`: never a
file or a link already there), flushed and fsynced, then renamed over the target, and the directory is fsynced so
that the new name survives a power cut. A rename replaces whatever has the target's name, a link included, instead
of writing through it. An exception (a Ctrl-C too) removes the temporary file and leaves the target as it was; a
kill leaves the target as it was plus at most the temporary file. Used by the snapshot writer, the crash guard's
ledger and `coi-risk snapshot export`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def atomic_replacement(target: Path, *, temporary: Path | None = None, permissions: int = 0o666,
                       mode: str = "wb", buffering: int = -1) -> Iterator[IO]:
    """A file to write the target's new content to (opened with `mode`, "wb" or "w"); it replaces `target` when
    the block ends without an exception. `temporary` names it (by default a name nobody can guess, hence plant
    anything under, beforehand); `permissions` are those of a file `open` creates unless given (umask applies)."""
    if temporary is None:
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(8)}.part")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, permissions)
    try:
        with os.fdopen(descriptor, mode, buffering=buffering, **({} if "b" in mode else {"encoding": "utf-8"})) \
                as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_directory(target.parent)


def fsync_directory(directory: Path) -> None:
    """Makes the names just created or renamed in `directory` durable."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
