"""Give freed memory back to the operating system after a large object graph dies.

A long-running web UI loads a new index version after every upload and
drops the old one.  Python frees the old objects, but glibc's allocator
keeps the pages as its high-water mark of two versions side by side, so the
process's resident memory would creep up with every upload.  After such a
swap (and after an in-process index build) we collect garbage and ask glibc
to return free pages (``malloc_trim``); elsewhere this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
from typing import Any

_libc: Any = None


def release_memory() -> None:
    """Collect garbage and return free heap pages to the OS (Linux/glibc; a no-op elsewhere)."""
    global _libc
    gc.collect()
    if not sys.platform.startswith("linux"):
        return
    if _libc is None:
        try:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _libc.malloc_trim.argtypes = [ctypes.c_size_t]
        except (OSError, AttributeError):
            _libc = False  # not glibc (musl has no malloc_trim): nothing to do
    if _libc:
        _libc.malloc_trim(0)
