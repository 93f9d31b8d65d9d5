"""What goes wrong when a model is imported, in terms the user can act on."""

from __future__ import annotations


class ImportFailure(Exception):
    """The model cannot be imported as asked; `message` says why (one or more lines, no traceback).

    `usage` is true when the command line itself is wrong (a target that does not name a model), so that the
    command exits 2 rather than 1.
    """

    def __init__(self, message: str, usage: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage
