"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Every file the assistant writes for users or for itself (corpus documents,
the index pointer, users, exports, handouts) goes through here: the data is
written to a temporary file in the same folder, flushed to disk, then moved
over the target with ``os.replace``.  On any failure the temporary file is
removed and the target is untouched.

Example::

    >>> from pathlib import Path
    >>> from assistant.fsutil import atomic_write, atomic_path
    >>> atomic_write(Path("/tmp/x.txt"), "你好\\n")
    >>> with atomic_path(Path("/tmp/x.docx")) as tmp:   # for writers that want a path
    ...     document.save(tmp)                           # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(path: str | Path, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on a clean exit it replaces ``path``.

    ``mode`` sets the file's permissions before it becomes visible (e.g. 0o600
    for a file holding password hashes); by default a replaced file keeps its
    permissions and a new one gets 0o644 (mkstemp's own 0o600 would hide
    corpus documents and exports from other users of the machine).
    """
    path = Path(path)
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o777
        except OSError:
            mode = 0o644
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, mode)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write(path: str | Path, data: str | bytes, *, encoding: str = "utf-8", mode: int | None = None) -> Path:
    """Write ``data`` (text or bytes) to ``path`` atomically; returns the path."""
    path = Path(path)
    with atomic_path(path, mode) as tmp:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            with open(tmp, "w", encoding=encoding, newline="") as fh:
                fh.write(data)
    return path
