"""Settings: defaults, TUTOR_* environment, .env, Streamlit secrets, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.errors import ConfigError
from tutor.settings import DEFAULT_CORPUS, get_settings, load_settings, reset_settings


@pytest.fixture(autouse=True)
def no_user_secrets(tmp_path, monkeypatch):
    """Streamlit also reads ~/.streamlit/secrets.toml: point HOME at an empty dir."""
    fake_home = tmp_path / "user"
    fake_home.mkdir()
    monkeypatch.setenv("HOME", str(fake_home))
    return fake_home


def write_secrets(base: Path, text: str) -> Path:
    path = base / ".streamlit" / "secrets.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults(tutor_home):
    s = load_settings()
    assert s.home == tutor_home
    assert s.chroma_url == ""
    assert s.embeddings == "minilm"
    assert s.max_upload_mb == 20
    assert s.max_upload_bytes == 20 * 1024 * 1024
    assert s.corpus_dir == DEFAULT_CORPUS
    assert (s.chunk_size, s.chunk_overlap, s.retrieval_k) == (1200, 150, 5)
    assert s.llm == "auto" and s.resolved_llm() == "offline"
    assert s.api_key() is None and s.teacher_password is None
    assert s.chroma_dir == tutor_home / "chroma"
    assert s.db_path == tutor_home / "tutor.sqlite3"
    assert s.documents_dir == tutor_home / "documents"


def test_home_default_is_a_user_data_dir(monkeypatch):
    monkeypatch.delenv("TUTOR_HOME")
    assert load_settings().home.name == "socratic-tutor"


def test_environment_prefix(monkeypatch, tmp_path):
    monkeypatch.setenv("TUTOR_MAX_UPLOAD_MB", "3.5")
    monkeypatch.setenv("TUTOR_RETRIEVAL_K", "7")
    monkeypatch.setenv("TUTOR_CHROMA_URL", " http://localhost:8000 ")
    monkeypatch.setenv("TUTOR_HOME", "~/tutor-data")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setenv("MAX_UPLOAD_MB", "99")  # no prefix: not ours
    s = load_settings()
    assert s.max_upload_mb == 3.5
    assert s.retrieval_k == 7
    assert s.chroma_url == "http://localhost:8000"
    assert s.home == Path.home() / "tutor-data"  # ~ expanded
    assert s.api_key() == "sk-from-env" and s.resolved_llm() == "openai"


def test_dotenv_is_read_and_environment_wins(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text(
        "TUTOR_RETRIEVAL_K=9\nTUTOR_LLM=offline\nOPENAI_API_KEY=sk-dotenv\nUNRELATED=1\n", encoding="utf-8")
    s = load_settings()
    assert s.retrieval_k == 9 and s.llm == "offline"
    assert s.api_key() == "sk-dotenv"
    monkeypatch.setenv("TUTOR_RETRIEVAL_K", "2")
    assert load_settings().retrieval_k == 2


def test_streamlit_secrets_are_read(tmp_path):
    write_secrets(tmp_path, 'TUTOR_MAX_UPLOAD_MB = 7\ntutor_llm = "offline"\n'
                            'OPENAI_API_KEY = "sk-secret"\nTUTOR_TEACHER_PASSWORD = "pw"\nother = 1\n')
    s = load_settings()
    assert s.max_upload_mb == 7
    assert s.llm == "offline"
    assert s.api_key() == "sk-secret"
    assert s.teacher_password is not None and s.teacher_password.get_secret_value() == "pw"


def test_user_level_secrets_are_read_and_project_level_wins(tmp_path, no_user_secrets):
    write_secrets(no_user_secrets, "TUTOR_RETRIEVAL_K = 4\nTUTOR_CHUNK_SIZE = 900\n")
    write_secrets(tmp_path, "TUTOR_RETRIEVAL_K = 6\n")
    s = load_settings()
    assert s.retrieval_k == 6 and s.chunk_size == 900


def test_precedence_env_over_dotenv_over_secrets(tmp_path, monkeypatch):
    write_secrets(tmp_path, "TUTOR_RETRIEVAL_K = 3\nTUTOR_CHUNK_SIZE = 800\nTUTOR_CHUNK_OVERLAP = 50\n")
    (tmp_path / ".env").write_text("TUTOR_RETRIEVAL_K=4\nTUTOR_CHUNK_SIZE=700\n", encoding="utf-8")
    monkeypatch.setenv("TUTOR_RETRIEVAL_K", "5")
    s = load_settings()
    assert (s.retrieval_k, s.chunk_size, s.chunk_overlap) == (5, 700, 50)


def test_get_settings_is_cached_until_reset(monkeypatch):
    first = get_settings()
    monkeypatch.setenv("TUTOR_RETRIEVAL_K", "8")
    assert get_settings() is first
    reset_settings()
    assert get_settings().retrieval_k == 8


@pytest.mark.parametrize(("var", "value", "fix"), [
    ("TUTOR_MAX_UPLOAD_MB", "abc", "positive number of megabytes"),
    ("TUTOR_MAX_UPLOAD_MB", "0", "positive number of megabytes"),
    ("TUTOR_EMBEDDINGS", "foo", "'minilm'"),
    ("TUTOR_CHROMA_URL", "ftp://x", "http://HOST:PORT"),
    ("TUTOR_LLM", "gpt", "auto, offline, openai"),
    ("TUTOR_LLM_BASE_URL", "localhost:8080", "e.g. http://localhost:8080/v1"),
    ("TUTOR_RETRIEVAL_K", "50", "between 1 and 20"),
    ("TUTOR_CHUNK_SIZE", "10", "between 200 and 4000"),
])
def test_invalid_value_names_variable_and_fix(monkeypatch, var, value, fix):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(f"{var}={value!r} is invalid")
    assert fix in message
    assert "\n" not in message  # one line per bad variable


def test_every_bad_variable_is_reported(monkeypatch):
    monkeypatch.setenv("TUTOR_MAX_UPLOAD_MB", "abc")
    monkeypatch.setenv("TUTOR_EMBEDDINGS", "foo")
    with pytest.raises(ConfigError) as info:
        get_settings()
    lines = str(info.value).splitlines()
    assert len(lines) == 2
    assert any(line.startswith("TUTOR_MAX_UPLOAD_MB=") for line in lines)
    assert any(line.startswith("TUTOR_EMBEDDINGS=") for line in lines)


def test_invalid_value_in_secrets_names_variable(tmp_path):
    write_secrets(tmp_path, 'TUTOR_MAX_UPLOAD_MB = "lots"\n')
    with pytest.raises(ConfigError, match=r"^TUTOR_MAX_UPLOAD_MB='lots' is invalid .*set TUTOR_MAX_UPLOAD_MB"):
        load_settings()


def test_broken_secrets_toml_names_the_file(tmp_path):
    path = write_secrets(tmp_path, "TUTOR_LLM = \n")
    with pytest.raises(ConfigError, match="secrets.toml") as info:
        load_settings()
    assert str(path) in str(info.value) and "Fix the TOML" in str(info.value)


def test_ensure_home_creates_state_dirs(tutor_home):
    s = load_settings()
    assert not tutor_home.exists()
    s.ensure_home()
    assert tutor_home.is_dir() and s.documents_dir.is_dir()


def test_unusable_home_is_a_config_error(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("TUTOR_HOME", str(blocker / "home"))
    with pytest.raises(ConfigError, match=r"TUTOR_HOME=.*cannot be created.*writable directory"):
        load_settings().ensure_home()
