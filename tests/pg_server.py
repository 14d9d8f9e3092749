"""A throwaway PostgreSQL server for tests, from the distribution's binaries.

``running_postgres()`` runs ``initdb`` into a fresh temporary folder, starts
``postgres`` on a free port of 127.0.0.1 (trust auth, ``fsync=off``, its
socket in that folder), creates the database ``feedback`` and yields its URL;
the server is always stopped and the folder removed.  ``initdb`` refuses to
run as root, so as root (CI) the folder belongs to the ``postgres`` system
user and the server runs through ``runuser -u postgres --``.  Tests skip when
Debian's ``postgresql`` package is not installed.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from ui_server import free_port

START_TIMEOUT_S = 30
INSTALL_HINT = "install Debian's postgresql (apt-get install postgresql, or `make system-deps` as root)"


def find_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/*/bin with initdb and pg_ctl, else the one on PATH."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: _version(Path(d).parent.name))
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.insert(0, str(Path(on_path).parent))
    for d in reversed(candidates):
        if all(os.access(Path(d) / exe, os.X_OK) for exe in ("initdb", "pg_ctl", "postgres")):
            return Path(d)
    return None


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(p) for p in name.split(".") if p.isdigit())


def _as_postgres_user() -> list[str]:
    """The command prefix that runs the server's tools as a non-root user (empty when not root)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root, and initdb needs the `postgres` system user: " + INSTALL_HINT)
    runuser = shutil.which("runuser")
    if not runuser:
        pytest.skip("running as root, and initdb needs `runuser` (util-linux) to run as the `postgres` user")
    return [runuser, "-u", "postgres", "--"]


def _wait_until_ready(url: str, log: Path) -> None:
    import psycopg

    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise RuntimeError(f"PostgreSQL did not accept connections in {START_TIMEOUT_S}s: {exc}\n{tail}")
            time.sleep(0.1)  # bounded polling


@contextlib.contextmanager
def running_postgres(tmp_path: Path | None = None):
    """Yield ``postgresql://postgres@127.0.0.1:PORT/feedback`` of a fresh server.

    The data folder is a new ``tempfile.mkdtemp()`` rather than ``tmp_path``,
    because pytest's base folder is private to the user running the tests and
    the ``postgres`` user must reach it; the server log is copied into
    ``tmp_path`` (when given) so a failure can be read afterwards.
    """
    bindir = find_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found: " + INSTALL_HINT)
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install -e '.[postgres]'")
    prefix = _as_postgres_user()

    root = Path(tempfile.mkdtemp(prefix="pgtest-"))
    data, sock, log = root / "data", root / "sock", root / "server.log"
    sock.mkdir()
    if prefix:
        for p in (root, sock):
            shutil.chown(p, "postgres", "postgres")

    def run(*cmd: str, timeout: float = 60) -> None:
        proc = subprocess.run(
            [*prefix, *cmd], cwd=root, capture_output=True, text=True, timeout=timeout,
            env={**os.environ, "LC_ALL": "C", "LANG": "C"},
        )
        if proc.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")

    started = False
    try:
        run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
            "--locale=C", "--no-sync")
        port = free_port()
        opts = " ".join(shlex.quote(o) for o in (
            "-c", "listen_addresses=127.0.0.1", "-c", f"port={port}", "-k", str(sock),
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
        ))
        started = True  # from here on, always try to stop it
        run(str(bindir / "pg_ctl"), "start", "-D", str(data), "-l", str(log), "-w", "-t", str(START_TIMEOUT_S),
            "-o", opts, timeout=START_TIMEOUT_S + 10)
        admin = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        _wait_until_ready(admin, log)

        import psycopg

        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as con:
            con.execute("CREATE DATABASE feedback")
        yield f"postgresql://postgres@127.0.0.1:{port}/feedback"
    finally:
        if started:
            try:
                run(str(bindir / "pg_ctl"), "stop", "-D", str(data), "-m", "immediate", "-w", "-t", "30", timeout=40)
            except (RuntimeError, subprocess.TimeoutExpired):
                _kill_postmaster(data)
        if tmp_path is not None and log.exists():
            with contextlib.suppress(OSError):
                shutil.copy(log, Path(tmp_path) / "postgres.log")
        shutil.rmtree(root, ignore_errors=True)


def _kill_postmaster(data: Path) -> None:
    """Last resort when pg_ctl cannot stop the server we started: SIGKILL its postmaster by pid."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((data / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, 9)
