"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Every file the assistant writes for users or for itself (corpus documents,
the index pointer, users, exports, handouts) goes through here: the data is
written to a temporary file in the same folder, flushed to disk, then moved
over the target with ``os.replace``.  On any failure the temporary file is
removed and the target is untouched.

Example::

    >>> from pathlib import Path
    >>> from assistant.fsutil import atomic_write, atomic_path
    >>> _ = atomic_write(Path("/tmp/x.txt"), "你好\\n")
    >>> with atomic_path(Path("/tmp/x.docx")) as tmp:   # for writers that want a path
    ...     document.save(tmp)                           # doctest: +SKIP
    >>> write_csv(Path("/tmp/x.csv"), ["comment"], [{"comment": "=1+1"}])  # spreadsheet-safe CSV
    1

:func:`check_writable` tries a folder before a long job writes into it, so a
read-only index or corpus folder is reported before anything is changed.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

from assistant.errors import storage_error


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


def check_writable(folder: str | Path, fix: str = "") -> None:
    """Create ``folder`` if needed and write (then delete) a file in it; StorageError naming it otherwise.

    A real write, not ``os.access``: permission bits say nothing for root,
    and nothing at all about a read-only mount or a full disk.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix=".write-check-", suffix=".tmp")
        try:
            os.write(fd, b"ok")
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(name)
    except OSError as exc:
        exc.filename = str(folder)  # the folder, not the name of the probe file
        raise storage_error(exc, folder, fix=fix) from None


# Cells a spreadsheet reads as a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """``value`` made safe for a spreadsheet: text starting with = + - @ tab or CR gets a leading ``'``.

    >>> csv_cell("=1+1"), csv_cell("停车难"), csv_cell(-3)
    ("'=1+1", '停车难', -3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_csv(
    path: str | Path, columns: Sequence[str], rows: Iterable[Mapping[str, object]], *, fix: str = ""
) -> int:
    """Write ``rows`` as UTF-8 CSV with a BOM (Excel shows Chinese), atomically, every cell through
    :func:`csv_cell`; returns the number of rows.  Every CSV the assistant writes goes through here."""
    path = Path(path)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    n = 0
    for row in rows:
        writer.writerow({k: csv_cell(v) for k, v in row.items()})
        n += 1
    try:
        atomic_write(path, buf.getvalue(), encoding="utf-8-sig")
    except OSError as exc:
        raise storage_error(exc, path, fix=fix) from None
    return n
