"""The few errors a user can meet. Each message says what to do about it.

Example::

    raise ConfigError("TUTOR_MAX_UPLOAD_MB='big' is invalid: set it to a number")
"""


class TutorError(Exception):
    """Base class: anything raised to a user (CLI, app) is one of these."""


class ConfigError(TutorError):
    """A setting is missing or invalid."""


class DocumentError(TutorError):
    """A file cannot be ingested. The message names the file and the reason in one line."""

    def __init__(self, filename: str, reason: str):
        self.filename = filename
        self.reason = reason
        super().__init__(f"{filename}: {reason}")


class StoreError(TutorError):
    """The vector store or manifest cannot be used."""


class EmbeddingMismatchError(StoreError):
    """The collection was built with another embedding model."""

    def __init__(self, stored: str, current: str):
        super().__init__(
            f"The store was built with the embedding model '{stored}' but the tutor is set to "
            f"'{current}'. Run `tutor reindex` to rebuild it with '{current}', or set "
            f"TUTOR_EMBEDDINGS back to the model the store was built with."
        )


class PermissionDenied(TutorError):
    """A teacher-only action was attempted without a teacher context."""


class RateLimited(TutorError):
    """A student sent messages faster than the configured limit."""

    def __init__(self, retry_after: float):
        self.retry_after = retry_after
        super().__init__(
            f"You're sending messages quickly. Take a moment to think, then try again in "
            f"{max(1, round(retry_after))} seconds."
        )


class ModelUnavailable(TutorError):
    """The configured language model could not answer; the turn falls back to offline."""
