"""Settings: one place reads every ASSISTANT_* variable; the README's table is generated from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.config import Settings, config_table, get_settings
from assistant.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
# read by the test suite only (refresh docs/screenshots), not by the assistant
TEST_ONLY = {"ASSISTANT_UPDATE_SCREENSHOTS"}


def test_the_configuration_page_holds_the_generated_table():
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert config_table() in page, "docs/configuration.md is stale: paste `python -m assistant.config`"


def test_every_variable_the_readme_or_code_names_is_a_setting():
    known = {f.metadata["env"] for f in Settings.__dataclass_fields__.values()}
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "eval" / "README.md", ROOT / "bench" / "README.md"]
    readme = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "assistant").rglob("*.py"))
    named = set(re.findall(r"ASSISTANT_[A-Z_]+[A-Z]", readme + code))
    assert named - known - TEST_ONLY == set()


def test_no_module_but_config_reads_the_environment():
    offenders = []
    for path in (ROOT / "assistant").rglob("*.py"):
        if path.name == "config.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"os\.environ(?!\.setdefault\(\"(GRADIO|OMP)_)|os\.getenv", line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []


def test_secrets_are_read_when_used_and_never_shown(monkeypatch):
    monkeypatch.setenv("ASSISTANT_LLM_API_KEY", "sk-very-secret")
    monkeypatch.setenv("ASSISTANT_FEEDBACK_URL", "postgresql://u:pw-secret@db:5432/f")
    s = get_settings()
    assert s.llm_api_key.value() == "sk-very-secret"
    assert "sk-very-secret" not in repr(s) and "pw-secret" not in repr(s)
    monkeypatch.setenv("ASSISTANT_LLM_API_KEY", "sk-rotated")
    assert s.llm_api_key.value() == "sk-rotated"  # read at call time


@pytest.mark.parametrize(
    "env, value",
    [("ASSISTANT_MAX_QUESTION_CHARS", "zero"), ("ASSISTANT_MAX_QUESTION_CHARS", "0"), ("ASSISTANT_STORE", "es"),
     ("ASSISTANT_LLM_TIMEOUT", "9999"), ("ASSISTANT_MILVUS_TIMEOUT", "-1")],
)
def test_bad_values_are_one_chinese_line_naming_the_variable(monkeypatch, env, value):
    monkeypatch.setenv(env, value)
    with pytest.raises(InputError) as err:
        get_settings()
    assert env in str(err.value) and "\n" not in str(err.value)


def test_data_dir_follows_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "d"))
    from assistant.feedback import default_db_path

    assert default_db_path() == tmp_path / "d" / "feedback.db"
