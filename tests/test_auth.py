"""Login users: salted scrypt hashes, the users file and env var, the add-user command."""

from __future__ import annotations

import io
import os
import stat

import pytest

from assistant.auth import add_user, hash_password, is_loopback, load_users, make_auth, parse_users, verify_password
from assistant.cli import main
from assistant.errors import InputError


def test_hash_is_salted_and_verifies():
    a, b = hash_password("社区书记2025"), hash_password("社区书记2025")
    assert a != b and a.startswith("scrypt$")
    assert verify_password("社区书记2025", a) and not verify_password("社区书记2024", a)
    assert not verify_password("x", "not-a-hash")


def test_users_from_file_env_and_default(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ASSISTANT_USERS", raising=False)
    assert load_users() == ({}, None)
    path = add_user("wangli", "password-1")
    assert path == tmp_path / "data" / "users.txt"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    add_user("zhao", "password-2")
    add_user("wangli", "password-3")  # replaces, not duplicates
    users, source = load_users()
    assert sorted(users) == ["wangli", "zhao"] and source == str(path)
    check = make_auth(users)
    assert check("wangli", "password-3") and not check("wangli", "password-1") and not check("nobody", "password-3")
    monkeypatch.setenv("ASSISTANT_USERS", f"li:{hash_password('password-4')};zhang:{hash_password('password-5')}")
    users, source = load_users()
    assert sorted(users) == ["li", "zhang"] and source == "ASSISTANT_USERS"
    users, source = load_users(path)  # an explicit file wins
    assert "wangli" in users


def test_bad_entries_name_the_line(tmp_path):
    with pytest.raises(InputError, match="第 2 项"):
        parse_users("# users\nwangli:plaintext\n", "users.txt")
    with pytest.raises(InputError, match="密码太短"):
        add_user("wangli", "short", tmp_path / "u.txt")
    with pytest.raises(InputError, match="用户名"):
        add_user("bad name", "long-enough-1", tmp_path / "u.txt")


def test_users_add_command_reads_the_password_from_stdin(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-good-password\n"))
    path = tmp_path / "users.txt"
    assert main(["users", "add", "wangli", "--users", str(path), "--password-stdin"]) == 0
    assert "已保存用户 wangli" in capsys.readouterr().out
    users, _ = load_users(path)
    assert verify_password("a-good-password", users["wangli"])
    assert "a-good-password" not in path.read_text(encoding="utf-8")


def test_loopback_addresses():
    assert all(is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "127.0.1.1"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "192.168.1.5", "::", "example.org"))
