"""Domain errors: each carries a message a user can act on and the exit code the CLI maps it to."""

from __future__ import annotations


class SecopsError(Exception):
    """Base of every error we raise on purpose; the CLI prints it without a traceback."""

    exit_code = 2


class InputError(SecopsError):
    """Bad user input (a file, a flag, a value): exit 2, message names file and line where there is one."""


class NotFoundError(SecopsError):
    """A named object (system, host, scope, run…) does not exist."""


class ConfigError(SecopsError):
    """The configuration file or environment is wrong."""


class InvalidStateError(SecopsError):
    """The action is not allowed in the object's current state (e.g. an illegal status transition)."""


class Location:
    """Where in an input a problem sits: ``FILE:LINE`` or ``FILE[sheet]!ROW``."""

    def __init__(self, file: str, line: int | None = None, sheet: str | None = None) -> None:
        self.file, self.line, self.sheet = file, line, sheet

    def __str__(self) -> str:
        if self.sheet is not None:
            return f"{self.file}[{self.sheet}]!{self.line}"
        return f"{self.file}:{self.line}" if self.line is not None else self.file
