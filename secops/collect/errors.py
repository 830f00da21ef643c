"""Why a host could not be collected: one exception type per ``CollectResult.error_kind``."""

from __future__ import annotations

from secops.i18n import _

ERROR_KINDS = ("unreachable", "auth", "host_key_unknown", "host_key_changed", "timeout", "dropped", "other")
_LABELS = {
    "unreachable": "host unreachable",
    "auth": "authentication failed",
    "host_key_unknown": "unknown host key",
    "host_key_changed": "host key changed",
    "timeout": "host deadline passed",
    "dropped": "connection dropped",
    "other": "collection failed",
}


def describe_kind(kind: str | None) -> str:
    """A short translated label for an ``error_kind`` (the stored reason itself stays English, as data)."""
    return _(_LABELS.get(kind or "other", _LABELS["other"]))


class HostError(Exception):
    """A problem with one host: the runner turns it into that host's ``error``/``error_kind``."""

    kind = "other"

    def __init__(self, reason: str, *, fingerprint: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fingerprint = fingerprint


class Unreachable(HostError):
    kind = "unreachable"


class AuthFailed(HostError):
    kind = "auth"


class HostKeyUnknown(HostError):
    kind = "host_key_unknown"


class HostKeyChanged(HostError):
    kind = "host_key_changed"


class Timeout(HostError):
    kind = "timeout"


class Dropped(HostError):
    kind = "dropped"
