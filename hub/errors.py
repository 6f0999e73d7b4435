"""The hub's error tree.

Platform clients raise only :class:`PlatformError` subclasses; the sync engine decides what to do
from the class alone (retry, back off, mark the shop for re-authorisation, or report a bad request).
"""

from __future__ import annotations


class HubError(Exception):
    """Base of every error the hub raises on purpose. ``str(err)`` is one clear line for a user."""


class ConfigError(HubError):
    """Bad settings or a missing credential: the user must fix something before retrying."""


class PluginError(HubError):
    """A plugin misbehaved: duplicate platform id, bad registration, broken hook."""


class StoreError(HubError):
    """The database failed or cannot be reached."""


class NotFoundError(StoreError):
    """No such shop, case or record (or not visible to the caller)."""


class MappingError(HubError):
    """A raw platform record could not be mapped; the record is quarantined with this message.

    :param field: the raw field at fault, when known, so the message says *where*.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


class ImportFileError(HubError):
    """An import file is malformed; nothing of it is imported. Says which file, line and column."""

    def __init__(self, message: str, *, path: str, line: int | None = None, column: str | None = None):
        where = (
            path + (f", line {line}" if line is not None else "") + (f", column {column!r}" if column else "")
        )
        super().__init__(f"{where}: {message}")
        self.path, self.line, self.column = path, line, column


class PlatformError(HubError):
    """Raised by a platform client or adapter. Subclasses tell the engine what to do.

    :param platform: the platform id.
    :param code: the platform's own error code, as a string.
    :param sub_code: the platform's sub-code, when it has one.
    """

    def __init__(
        self,
        message: str,
        *,
        platform: str = "",
        code: str | None = None,
        sub_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.platform = platform
        self.code = code
        self.sub_code = sub_code


class PlatformConnectionError(PlatformError):
    """Transient: timeout, connection refused, 5xx, the platform's internal error. Retry with backoff."""


class PlatformRateLimitError(PlatformConnectionError):
    """The platform throttled us. ``retry_after`` seconds, when the platform says how long."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class PlatformAuthError(PlatformError):
    """The credentials are invalid or expired: the shop needs re-authorisation; other shops go on."""


class PlatformRequestError(PlatformError):
    """The platform rejected the request itself (bad parameter, business rule). Not retried."""


class PlatformStopError(PlatformRequestError):
    """The platform forbids further calls of this kind (PDD 70032-70035): stop, never retry."""


class ActionError(HubError):
    """An action cannot be performed (not allowed in this state, bad parameters)."""


class IdempotencyConflict(ActionError):
    """An idempotency key already used for this action on this case, now with other parameters: the
    caller must choose a new key to act again (a silent replay would hide the new request)."""
