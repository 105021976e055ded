"""Files written whole or not at all, and never through a link planted under their name or beside them.

The new content goes to a temporary file in the target's directory, created afresh (`O_EXCL | O_NOFOLLOW`: never a
file or a link already there), flushed and fsynced, then renamed over the target, and the directory is fsynced so
that the new name survives a power cut. A rename replaces whatever has the target's name, a link included, instead
of writing through it. An exception (a Ctrl-C too) removes the temporary file and leaves the target as it was; a
kill leaves the target as it was plus at most the temporary file. Used by the snapshot writer, the crash guard's
ledger, `coi-risk snapshot export` and, in two phases (`PreparedReplacement`), `coi-risk import --state`.
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
    replacement = PreparedReplacement(target, temporary=temporary, permissions=permissions, mode=mode,
                                      buffering=buffering)
    with replacement.writing() as handle:
        yield handle
    replacement.commit()


class PreparedReplacement:
    """`atomic_replacement` in two phases, for content that may replace the target only once something else has
    succeeded (the import's feed state, once its events reached the topic): `with writing() as handle:` writes the
    temporary file whole and fsyncs it (an exception removes it); later `commit()` renames it over the target, or
    `discard()` removes it and leaves the target as it was. The arguments are `atomic_replacement`'s."""

    def __init__(self, target: Path, *, temporary: Path | None = None, permissions: int = 0o666, mode: str = "wb",
                 buffering: int = -1):
        self.target = target
        self.temporary = temporary or target.with_name(f".{target.name}.{secrets.token_hex(8)}.part")
        self._permissions, self._mode, self._buffering = permissions, mode, buffering

    @contextmanager
    def writing(self) -> Iterator[IO]:
        descriptor = os.open(self.temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, self._permissions)
        try:
            with os.fdopen(descriptor, self._mode, buffering=self._buffering,
                           **({} if "b" in self._mode else {"encoding": "utf-8"})) as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            self.discard()
            raise

    def commit(self) -> None:
        try:
            os.replace(self.temporary, self.target)
        except BaseException:
            self.discard()
            raise
        fsync_directory(self.target.parent)

    def discard(self) -> None:
        self.temporary.unlink(missing_ok=True)


def fsync_directory(directory: Path) -> None:
    """Makes the names just created or renamed in `directory` durable."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
