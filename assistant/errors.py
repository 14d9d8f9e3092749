"""Errors whose message is meant for the user (in Chinese).

The CLI prints ``str(error)`` on one line and exits with ``error.exit_code``;
anything else is a bug and keeps its traceback.

Exit codes (docs/cli.md): 2 bad input, 3 index missing, stale or
corrupt, 4 Milvus unreachable, 5 a file or folder cannot be read or written
(permissions, disk full, read-only file system), 130 cancelled (Ctrl+C).
"""

from __future__ import annotations

import errno
from pathlib import Path


class AssistantError(Exception):
    exit_code = 2


class InputError(AssistantError):
    """The user's input (a question, a path, an option) cannot be used."""

    exit_code = 2


class IndexProblem(AssistantError):
    """The index on disk is missing, stale or corrupt."""

    exit_code = 3


class StoreUnavailable(AssistantError):
    """The shared case library (a Milvus server) cannot be reached right now."""

    exit_code = 4


class StorageError(AssistantError):
    """A file or folder cannot be read or written: permissions, a full disk, a read-only file system."""

    exit_code = 5


class Cancelled(AssistantError):
    """The user stopped a long job (Ctrl+C, the UI's 取消 button); nothing was changed."""

    exit_code = 130


_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, getattr(errno, "EFBIG", -1)}


def storage_error(exc: OSError, path: str | Path | None = None, *, writing: bool = True, fix: str = "") -> StorageError:
    """One Chinese line for an ``OSError``: what failed, on which path, and how to fix it.

    ``path`` is used when the error names no file itself; ``fix`` adds the
    way round it that fits the caller (e.g. "或用 --index-dir 指定其他目录").

    >>> str(storage_error(PermissionError(13, "Permission denied", "/srv/index/CURRENT")))
    '没有权限写入 /srv/index/CURRENT。请让运行助手的用户对它所在的目录有写权限（例如 sudo chown -R $(whoami) /srv/index）。'
    """
    where = Path(exc.filename) if getattr(exc, "filename", None) else Path(path) if path else None
    shown = str(where) if where else "（未知路径）"
    act = "写入" if writing else "读取"
    folder = where if where is None or where.is_dir() else where.parent
    extra = f"，{fix}" if fix else ""
    if exc.errno in (errno.EACCES, errno.EPERM):
        hint = "写" if writing else "读"
        msg = (
            f"没有权限{act} {shown}。请让运行助手的用户对它所在的目录有{hint}权限"
            f"（例如 sudo chown -R $(whoami) {folder}）{extra}。"
        )
    elif exc.errno in _NO_SPACE:
        msg = f"磁盘空间不足，无法{act} {shown}。请清理磁盘空间（df -h 查看）后重试{extra}。"
    elif exc.errno == errno.EROFS:
        msg = f"{shown} 所在的文件系统是只读的，无法{act}。请把它挂载为可写{extra or '，或换一个可写的位置'}。"
    else:
        reason = exc.strerror or type(exc).__name__
        msg = f"无法{act} {shown}（{reason}）。请检查该路径是否存在、可用{extra}。"
    return StorageError(msg)
