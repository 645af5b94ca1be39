"""One exception hierarchy for everything a user can cause. The CLI turns these into one line and an exit code."""

from __future__ import annotations


class DlexpertError(Exception):
    """Base class. `exit_code` is what the CLI exits with; the message is one line written for the user."""

    exit_code = 1


class InvalidInputError(DlexpertError, ValueError):
    """The input is malformed or contradictory. The message names the file/field/line and what is expected."""

    exit_code = 2


class UnknownNameError(InvalidInputError, KeyError):
    """A registry lookup failed; the message lists the valid names (Lightning Fabric style)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class RegistryError(DlexpertError, ValueError):
    """A developer error in a registry: a name registered twice. The message names who registered it first."""
