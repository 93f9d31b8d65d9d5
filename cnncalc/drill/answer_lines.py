"""Answers read from a stream one line at a time, with bounded memory whatever the stream holds.

`yes 9472 | cnncalc drill --json` is an endless stream, and a file with no line breaks is one endless line: the
reader takes at most one line per question, holds at most MAX_ANSWER_CHARS characters of a line, and skips the
rest of a longer line in fixed-size pieces (refusing that answer), up to MAX_SKIPPED_CHARS; past that, the rest of
the input is not read at all.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TextIO

MAX_ANSWER_CHARS = 4096  # no answer is anywhere near this long; a longer line is refused, not read
MAX_SKIPPED_CHARS = 16 * 2**20  # the rest of an over-long line skipped before reading stops altogether
_SKIP_PIECE_CHARS = 64 * 1024


class LineRefusedError(ValueError):
    """A line that was not read as an answer (too long, or not text); the message says why."""


@dataclass(frozen=True)
class AnswerLine:
    """One line of answers.

    text:    the line without its line break (for a refused line, its first MAX_ANSWER_CHARS characters)
    problem: why the line was refused, or "" when it can be graded
    """

    text: str
    problem: str = ""


class AnswerLines:
    """Read answer lines from a text stream, one per call, never holding more than one bounded line."""

    def __init__(
        self, stream: TextIO, max_chars: int = MAX_ANSWER_CHARS, max_skipped_chars: int = MAX_SKIPPED_CHARS
    ) -> None:
        reconfigure = getattr(stream, "reconfigure", None)
        if callable(reconfigure):
            # Bytes that are not text become U+FFFD and reading goes on; a strict decoder (PYTHONIOENCODING=utf-8)
            # would stop at the first bad byte, and cannot be resumed after it.
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="replace")
        self._stream = stream
        self._max_chars = max_chars
        self._max_skipped_chars = max_skipped_chars
        self._ended = False  # end of input, or the input stopped being read

    def next(self) -> AnswerLine | None:
        """The next line, or None at the end of the input (or once reading has stopped)."""
        if self._ended:
            return None
        try:
            line = self._stream.readline(self._max_chars + 1)
        except UnicodeDecodeError as error:
            # A strict decoder cannot resynchronise reliably after bad bytes: stop reading here.
            self._ended = True
            encoding = getattr(self._stream, "encoding", None) or "the expected encoding"
            return AnswerLine("", f"the input is not text in {encoding} ({error.reason}); the rest was not read")
        if not line:
            self._ended = True
            return None
        if line.endswith("\n"):
            return AnswerLine(_text(line[:-1]))
        if len(line) <= self._max_chars:
            return AnswerLine(_text(line))  # the last line, without a line break
        problem = f"the answer is longer than {self._max_chars:,} characters; it was not read"
        if not self._skip_rest_of_line():
            self._ended = True
            skipped = f"more than {self._max_skipped_chars:,} characters without a line break"
            problem += f", nor anything after it ({skipped})"
        return AnswerLine(_text(line[: self._max_chars]), problem)

    def _skip_rest_of_line(self) -> bool:
        """Read past the end of an over-long line, in fixed-size pieces; False when it has no end in sight (then
        nothing more is read) or the input ended inside it."""
        skipped = 0
        piece_chars = min(_SKIP_PIECE_CHARS, self._max_skipped_chars)
        while skipped <= self._max_skipped_chars:
            try:
                piece = self._stream.readline(piece_chars)
            except UnicodeDecodeError:
                return False
            if not piece:
                self._ended = True
                return True  # the input ended inside the line: the answer is refused, nothing is lost
            if piece.endswith("\n"):
                return True
            skipped += len(piece)
        return False


def _text(line: str) -> str:
    """The line as text that can be stored and printed: bytes that were not valid text (kept by Python as lone
    surrogates under the surrogateescape error handler) become U+FFFD, which SQLite and JSON accept."""
    if line.isascii():
        return line
    try:
        raw = line.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no decoder made: it stands for nothing, so '?'
        raw = line.encode("utf-8", "replace")
    return raw.decode("utf-8", "replace")
