"""The one Settings object: environment (``TUTOR_*``), ``.env`` and Streamlit secrets.

Example::

    from tutor.settings import get_settings
    get_settings().home
    # → PosixPath('/home/me/.local/share/socratic-tutor')

Every piece of state lives under ``home`` (``TUTOR_HOME``): ``chroma/`` (unless
``TUTOR_CHROMA_URL`` points at a Chroma server), ``tutor.sqlite3`` (unless ``TUTOR_DATABASE_URL``
points at PostgreSQL) and ``documents/`` (kept originals from before they moved into the database).
"""

from __future__ import annotations

import logging
import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from tutor.errors import ConfigError

if TYPE_CHECKING:
    from tutor.clients import TrustedProxies

_log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = PROJECT_ROOT / "corpus"
DEFAULT_PROMPTS = PROJECT_ROOT / "prompts"

# How to fix each setting, shown when its value is invalid.
_FIXES: dict[str, str] = {
    "trusted_proxies": "set TUTOR_TRUSTED_PROXIES to your reverse proxies' addresses or networks, comma-separated (e.g. 10.0.0.2,10.1.0.0/16), or leave it empty without a proxy",
    "home": "set TUTOR_HOME to a writable directory, e.g. export TUTOR_HOME=~/tutor-data",
    "database_url": "set TUTOR_DATABASE_URL to postgresql://USER:PASSWORD@HOST:5432/DB, or leave it empty for SQLite under TUTOR_HOME",
    "chroma_url": "set TUTOR_CHROMA_URL to http://HOST:PORT of a Chroma server, or leave it empty for the embedded store",
    "embeddings": "set TUTOR_EMBEDDINGS to 'minilm' (offline, default) or 'openai'",
    "max_upload_mb": "set TUTOR_MAX_UPLOAD_MB to a positive number of megabytes, e.g. 20",
    "llm": "set TUTOR_LLM to one of auto, offline, openai, openai-compatible, llamacpp",
    "llm_base_url": "set TUTOR_LLM_BASE_URL to the server's address, e.g. http://localhost:8080/v1, or leave it empty",
    "llm_timeout": "set TUTOR_LLM_TIMEOUT to a positive number of seconds, e.g. 30",
    "llm_connect_timeout": "set TUTOR_LLM_CONNECT_TIMEOUT to a positive number of seconds, e.g. 5",
    "llm_max_retries": "set TUTOR_LLM_MAX_RETRIES to 0, 1 or 2",
    "llm_turn_budget": "set TUTOR_LLM_TURN_BUDGET to a positive number of seconds a model turn may take, e.g. 20",
    "llm_structured": "set TUTOR_LLM_STRUCTURED to one of auto, json_schema, function_calling, json_mode, prompt",
    "teacher_password": "set TUTOR_TEACHER_PASSWORD to a real password (not only spaces), or leave it unset to close the teacher area",
    "rate_limit_per_minute": "set TUTOR_RATE_LIMIT_PER_MINUTE to a whole number of messages (0 turns the limit off)",
    "chunk_size": "set TUTOR_CHUNK_SIZE to a number of characters between 200 and 4000",
    "chunk_overlap": "set TUTOR_CHUNK_OVERLAP to a number of characters smaller than TUTOR_CHUNK_SIZE",
    "retrieval_k": "set TUTOR_RETRIEVAL_K to a whole number between 1 and 20",
}


def _secrets_files() -> list[Path]:
    # The same two places Streamlit reads st.secrets from, without importing Streamlit.
    return [Path.home() / ".streamlit" / "secrets.toml", Path.cwd() / ".streamlit" / "secrets.toml"]


class StreamlitSecretsSource(PydanticBaseSettingsSource):
    """Reads top-level ``TUTOR_*`` keys (and ``OPENAI_API_KEY``) from Streamlit's secrets.toml."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for path in _secrets_files():
            if not path.is_file():
                continue
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"Cannot read {path}: {exc}. Fix the TOML or remove the file.") from exc
            for key, value in data.items():
                upper = key.upper()
                if upper.startswith("TUTOR_"):
                    values[upper.removeprefix("TUTOR_").lower()] = value
                elif upper == "OPENAI_API_KEY":
                    # The field is read by its alias (no prefix); its own name would be ignored.
                    values["OPENAI_API_KEY"] = value
        return values


class Settings(BaseSettings):
    """All configuration. Read it with :func:`get_settings`, never construct it in the UI."""

    model_config = SettingsConfigDict(
        env_prefix="TUTOR_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    home: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("socratic-tutor")))
    # Empty: SQLite under TUTOR_HOME (one host). postgresql://…: shared by every app replica.
    database_url: SecretStr = SecretStr("")
    chroma_url: str = ""
    embeddings: Literal["minilm", "openai"] = "minilm"
    openai_embedding_model: str = "text-embedding-3-small"
    max_upload_mb: float = Field(20.0, gt=0, le=1024)
    corpus_dir: Path = DEFAULT_CORPUS
    prompts_dir: Path = DEFAULT_PROMPTS

    # Chunking and retrieval defaults were chosen by measurement (README, "Retrieval").
    chunk_size: int = Field(1200, ge=200, le=4000)
    chunk_overlap: int = Field(150, ge=0, le=2000)
    retrieval_k: int = Field(5, ge=1, le=20)

    llm: Literal["auto", "offline", "openai", "openai-compatible", "llamacpp"] = "auto"
    llm_model: str = "gpt-4.1-mini"
    llm_base_url: str = ""
    llm_api_key: SecretStr | None = None
    llm_model_path: Path | None = None
    llm_timeout: float = Field(30.0, gt=0, le=600)
    llm_connect_timeout: float = Field(5.0, gt=0, le=120)
    llm_max_retries: int = Field(1, ge=0, le=5)
    # One deadline for a whole model turn, regeneration included; past it the offline reply is used.
    llm_turn_budget: float = Field(20.0, gt=0, le=600)
    # How the model is asked for the turn's structured Reading (tutor.model_turn): "auto" sends a
    # JSON schema to an OpenAI-compatible server; function_calling or json_mode for servers without
    # json_schema support; "prompt" asks for the JSON in the prompt text.
    llm_structured: Literal["auto", "json_schema", "function_calling", "json_mode", "prompt"] = "auto"
    # OPENAI_API_KEY is the variable every OpenAI tool reads; honour it without the prefix.
    openai_api_key: SecretStr | None = Field(
        None, validation_alias="OPENAI_API_KEY"
    )

    teacher_password: SecretStr | None = None
    # The reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For hop is
    # believed: the rightmost hop not in this list is the client (tutor.clients). Empty: the
    # header is ignored, every connection is its peer address.
    trusted_proxies: str = ""
    # Deprecated: it trusted the first hop, which a client writes itself. Now it means
    # "a proxy on this host" (127.0.0.1 and ::1) unless TUTOR_TRUSTED_PROXIES is set.
    trust_proxy: bool = False
    rate_limit_per_minute: int = Field(20, ge=0, le=10_000)

    @field_validator("home", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("chroma_url", "llm_base_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value().strip()
        if url and not url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://", "sqlite:///")):
            raise ValueError("must start with postgresql:// (or be empty for SQLite under TUTOR_HOME)")
        return SecretStr(url)

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: str) -> str:
        from tutor.clients import TrustedProxies

        return ",".join(str(net) for net in TrustedProxies.parse(value).networks)

    def proxies(self) -> "TrustedProxies":
        """The trusted proxies, TUTOR_TRUST_PROXY=true standing for the loopback addresses."""
        from tutor.clients import SERVER_DEFAULT, TrustedProxies

        if self.trust_proxy and not self.trusted_proxies:
            _log.warning("TUTOR_TRUST_PROXY is deprecated: it believed the first X-Forwarded-For hop, "
                         "which any client can write. It now trusts only a proxy on this host (127.0.0.1, "
                         "::1). Set TUTOR_TRUSTED_PROXIES to your proxy's address (e.g. 10.0.0.2 or "
                         "10.0.0.0/24) and remove TUTOR_TRUST_PROXY.")
            return TrustedProxies.parse(SERVER_DEFAULT)
        return TrustedProxies.parse(self.trusted_proxies)

    @field_validator("teacher_password")
    @classmethod
    def _check_password(cls, value: SecretStr | None) -> SecretStr | None:
        # Unset or empty closes the teacher area; only spaces would open it to a blank-looking
        # password, which is a mistake in a config file, not a choice.
        if value is not None and value.get_secret_value() and not value.get_secret_value().strip():
            raise ValueError("is only whitespace")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            StreamlitSecretsSource(settings_cls),
            file_secret_settings,
        )

    # -- derived paths -------------------------------------------------------------
    @property
    def chroma_dir(self) -> Path:
        return self.home / "chroma"

    @property
    def db_path(self) -> Path:
        return self.home / "tutor.sqlite3"

    @property
    def database(self) -> str:
        """The SQLAlchemy URL of the database: TUTOR_DATABASE_URL, else SQLite under TUTOR_HOME."""
        url = self.database_url.get_secret_value()
        if not url:
            return f"sqlite:///{self.db_path}"
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):  # psycopg 3 is the driver the project ships
                return "postgresql+psycopg://" + url[len(prefix):]
        return url

    @property
    def documents_dir(self) -> Path:
        return self.home / "documents"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    def api_key(self) -> str | None:
        for secret in (self.llm_api_key, self.openai_api_key):
            if secret is not None and secret.get_secret_value().strip():
                return secret.get_secret_value().strip()
        return None

    def resolved_llm(self) -> str:
        """The backend ``auto`` stands for: a model when a key or base URL is set, else offline."""
        if self.llm != "auto":
            return self.llm
        if self.llm_base_url:
            return "openai-compatible"
        if self.api_key():
            return "openai"
        return "offline"

    def ensure_home(self) -> Path:
        try:
            # Conversations and teachers' documents live here: the owner's alone (tutor/db.py).
            private_dir(self.home)
            self.documents_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"TUTOR_HOME={self.home} cannot be created ({exc.strerror}). {_FIXES['home']}."
            ) from exc
        if not os.access(self.home, os.W_OK):
            raise ConfigError(f"TUTOR_HOME={self.home} is not writable. {_FIXES['home']}.")
        return self.home


from tutor.db import private_dir  # noqa: E402  (db imports nothing from here)


def load_settings(**overrides: Any) -> Settings:
    """Build Settings, turning validation errors into one message per bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            var = "OPENAI_API_KEY" if field == "OPENAI_API_KEY" else f"TUTOR_{field.upper()}"
            got = "(hidden: it may hold a password)" if field == "database_url" else err.get("input")
            fix = _FIXES.get(field, f"check {var}")
            lines.append(f"{var}={got!r} is invalid ({err['msg']}): {fix}.")
        raise ConfigError("\n".join(lines)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def reset_settings() -> None:
    """Forget the cached settings (tests, and after the environment changes)."""
    get_settings.cache_clear()
