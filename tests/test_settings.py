"""Settings: where each value comes from (argument, BRIEF_* variable, brief.toml, default), how
text becomes a typed value, and the one-line errors that name the variable or key at fault."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from brief.errors import BriefError
from brief.settings import Settings
from brief.settings_fields import SettingsError


def test_defaults_without_environment_or_file() -> None:
    s = Settings()
    assert s.home == Path(".brief")
    assert s.top_k == 6
    assert s.chroma_url is None
    assert s.feeds == [] and s.fetch_allow_hosts == []
    assert s.embed_read_ends is True
    assert s.backend == "auto"
    assert s.prompts_dir.is_dir()


def test_argument_then_environment_then_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "brief.toml").write_text('top_k = 9\ncandidates = 77\nfeeds = ["https://a.example/rss"]\n')
    monkeypatch.setenv("BRIEF_TOP_K", "8")
    s = Settings()
    assert (s.top_k, s.candidates, s.feeds) == (8, 77, ["https://a.example/rss"])
    assert Settings(top_k=3).top_k == 3
    monkeypatch.setenv("brief_candidates", "55")  # variable names are read whatever their case
    assert Settings().candidates == 55


def test_text_from_variables_becomes_typed_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEF_HOME", "/srv/news")
    monkeypatch.setenv("BRIEF_EMBED_READ_ENDS", "off")
    monkeypatch.setenv("BRIEF_FETCH_RESPECT_ROBOTS", "No")
    monkeypatch.setenv("BRIEF_FETCH_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("BRIEF_TEMPERATURE", "0.5")
    monkeypatch.setenv("BRIEF_FEEDS", '["https://a.example/rss", "https://b.example/atom"]')
    monkeypatch.setenv("BRIEF_EMBED_WORKERS", " ")
    monkeypatch.setenv("BRIEF_BACKEND", "extractive")
    s = Settings()
    assert s.home == Path("/srv/news")
    assert s.embed_read_ends is False and s.fetch_respect_robots is False and s.fetch_allow_private is True
    assert s.temperature == 0.5
    assert s.feeds == ["https://a.example/rss", "https://b.example/atom"]
    assert s.embed_workers is None  # blank: the field's "not set"
    assert s.backend == "extractive"


def test_blank_urls_and_keys_are_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEF_CHROMA_URL", "  ")
    monkeypatch.setenv("OPENAI_API_KEY", "")
    s = Settings()
    assert s.chroma_url is None and s.openai_api_key is None


def test_openai_variables_and_brief_ones_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-plain")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1")
    s = Settings()
    assert (s.openai_api_key, s.openai_base_url) == ("sk-plain", "http://127.0.0.1:8080/v1")
    monkeypatch.setenv("BRIEF_OPENAI_API_KEY", "sk-brief")
    assert Settings().openai_api_key == "sk-brief"


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("BRIEF_TOP_K", "0", "BRIEF_TOP_K='0': must be at least 1"),
        ("BRIEF_TOP_K", "six", "BRIEF_TOP_K='six': expected a whole number"),
        ("BRIEF_UI_PORT", "70000", "BRIEF_UI_PORT='70000': must be at most 65535"),
        ("BRIEF_LLM_TIMEOUT", "0", "BRIEF_LLM_TIMEOUT='0': must be greater than 0"),
        ("BRIEF_TEMPERATURE", "warm", "BRIEF_TEMPERATURE='warm': expected a number"),
        ("BRIEF_EMBED_QUANTIZED", "maybe", "BRIEF_EMBED_QUANTIZED='maybe': expected true or false"),
        ("BRIEF_BACKEND", "gpt", "BRIEF_BACKEND='gpt': expected one of auto, extractive, openai, local"),
        ("BRIEF_FEEDS", "https://a.example/rss", "BRIEF_FEEDS='https://a.example/rss': expected a JSON list"),
        ("BRIEF_COLLECTION", "ab", "BRIEF_COLLECTION='ab': must be at least 3 characters long"),
    ],
)
def test_a_bad_variable_is_named(monkeypatch: pytest.MonkeyPatch, variable: str, value: str, words: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        Settings()
    assert words in str(caught.value)
    assert isinstance(caught.value, BriefError) and caught.value.exit_code == 2


def test_a_bad_toml_value_or_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "brief.toml").write_text('top_k = "many"\n')
    with pytest.raises(SettingsError, match=r"top_k in brief.toml='many': expected a whole number"):
        Settings()
    (tmp_path / "brief.toml").write_text("feeds = [\n")
    with pytest.raises(SettingsError, match=r"brief.toml is not valid TOML"):
        Settings()
    (tmp_path / "brief.toml").write_text('top_k = 5.5\nbackend = "local"\n')
    with pytest.raises(SettingsError, match="expected a whole number"):
        Settings()


def test_keys_of_other_tools_in_the_file_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "brief.toml").write_text('top_k = 4\nunrelated = "kept for another tool"\n')
    assert Settings().top_k == 4


def test_arguments_are_checked_like_the_rest() -> None:
    with pytest.raises(SettingsError, match="per_doc_cap=0"):
        Settings(per_doc_cap=0)
    with pytest.raises(SettingsError, match="user:password"):
        Settings(ui_auth="admin")
    with pytest.raises(TypeError, match="top_kk"):
        Settings(top_kk=3)
    assert Settings(home="relative/home").home == Path("relative/home")
    assert Settings(ui_auth="admin:secret").ui_auth == "admin:secret"


def test_secrets_stay_out_of_repr() -> None:
    s = Settings(openai_api_key="sk-very-secret", ui_auth="admin:hunter2")
    shown = repr(s)
    assert "sk-very-secret" not in shown and "hunter2" not in shown
    assert "top_k=6" in shown


def test_replace_copies_and_checks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    s = Settings(top_k=4, home=Path("/tmp/a"))
    (tmp_path / "brief.toml").write_text("top_k = [\n")  # a copy reads no file: this breaks nothing
    monkeypatch.setenv("BRIEF_TOP_K", "9")  # a copy keeps the original's values, not the environment's
    copy = dataclasses.replace(s, home=Path("/tmp/b"))
    assert (copy.top_k, copy.home, s.home) == (4, Path("/tmp/b"), Path("/tmp/a"))
    with pytest.raises(SettingsError):
        dataclasses.replace(s, top_k=0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.top_k = 5  # type: ignore[misc]


def test_cli_reports_a_bad_setting_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEF_")}
    env.update(BRIEF_HOME=str(tmp_path / "home"), BRIEF_CANDIDATES="lots")
    done = subprocess.run(
        [sys.executable, "-m", "brief.cli", "status"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "error: invalid setting BRIEF_CANDIDATES='lots': expected a whole number"
    assert "Traceback" not in done.stderr


def test_reading_settings_does_not_import_pydantic(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEF_")}
    code = "import sys; from brief.settings import Settings; Settings(); print('pydantic' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr
