"""A drill session: ask, read, grade, save, explain; interactively or from piped answers.

Each answer is saved before its feedback is printed, so whatever the user has seen graded is on disk; and an
answer counts in the session's result exactly when it is saved: Ctrl-C is held back from the commit until the
answer is in the result too, so the printed summary and the database always agree.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from cnncalc.drill.answer_lines import AnswerLine, LineRefusedError
from cnncalc.drill.answers import AnswerFormatError, Grade
from cnncalc.drill.leitner import Card, after_answer
from cnncalc.drill.question import Question
from cnncalc.drill.store import ProgressStore, interrupts_held

SKIP_WORDS = frozenset({"skip", "s", "pass", "next", "idk"})
QUIT_WORDS = frozenset({"quit", "q", "exit", ":q"})
HELP_WORDS = frozenset({"?", "help", "h", "hint", "format"})


@dataclass(frozen=True)
class AnswerRecord:
    number: int
    question: Question
    given: str | None  # None: never answered (piped answers ran out)
    grade: Grade | None
    seconds: float
    skipped: bool = False
    error: str = ""  # a piped answer that could not be read

    @property
    def correct(self) -> bool:
        return self.grade is not None and self.grade.correct


@dataclass
class SessionResult:
    records: list[AnswerRecord]
    status: str  # finished, quit, interrupted
    seconds: float


class Recorder:
    """Saves each answer (when progress is kept) together with its topic's new Leitner card."""

    def __init__(
        self, store: ProgressStore | None, session_id: int | None, session_number: int, cards: Mapping[str, Card]
    ) -> None:
        self.store = store
        self.session_id = session_id
        self.session_number = session_number
        self.cards = dict(cards)

    def keep(self, record: AnswerRecord, records: list[AnswerRecord]) -> None:
        """Save `record` and add it to `records`, both or (on an error) neither; Ctrl-C arriving meanwhile is
        delivered after both."""
        with interrupts_held():
            self.record(record)
            records.append(record)

    def record(self, record: AnswerRecord) -> None:
        if record.given is None:
            return  # nothing was answered: nothing to learn from
        card = after_answer(self.cards.get(record.question.topic, Card()), record.correct, self.session_number)
        self.cards[record.question.topic] = card
        if self.store is None or self.session_id is None:
            return
        self.store.record_answer(
            self.session_id,
            record.number,
            record.question.id,
            record.question.topic,
            record.question.level,
            record.given,
            record.question.expected.describe(),
            record.correct,
            round(record.seconds, 3),
            card,
        )

    def finish(self, status: str) -> None:
        if self.store is not None and self.session_id is not None:
            self.store.finish_session(self.session_id, status)


def question_header(number: int, total: int, question: Question) -> str:
    source = f" · {question.source}" if question.source else ""
    return f"[{number}/{total}] {question.topic} · {question.level}{source}"


def feedback(record: AnswerRecord) -> str:
    """Right or wrong, what was understood, the answer, a remark, and the worked solution."""
    question = record.question
    lines = []
    if record.skipped:
        lines.append(f"– skipped; the answer is {question.expected.describe()}")
    elif record.grade is not None and record.grade.correct:
        note = f" ({record.grade.note})" if record.grade.note else ""
        lines.append(f"✓ right: {record.grade.understood}{note} · {record.seconds:.1f} s")
    elif record.grade is not None:
        lines.append(f"✗ wrong: you said {record.grade.understood}; the answer is {question.expected.describe()}")
        if record.grade.note:
            lines.append(f"  {record.grade.note}")
    lines.append("Worked solution:")
    lines.extend("  " + line if line else "" for line in question.solution.splitlines())
    if question.command:
        lines.append(f"  (see it again: {question.command})")
    return "\n".join(lines)


def run_interactive(
    questions: Sequence[Question],
    recorder: Recorder,
    read: Callable[[str], str],
    write: Callable[[str], None],
    clock: Callable[[], float] = time.monotonic,
) -> SessionResult:
    """Ask each question until answered, skipped or quit. EOF ends the session as a quit; Ctrl-C as an
    interruption. Answers already given are saved either way."""
    records: list[AnswerRecord] = []
    started = clock()
    status = "finished"
    try:
        for number, question in enumerate(questions, start=1):
            write("")
            write(question_header(number, len(questions), question))
            write(question.prompt)
            asked = clock()
            record = _ask(number, question, read, write, asked, clock)
            if record is None:
                status = "quit"
                break
            recorder.keep(record, records)  # saved (and counted) before the feedback is shown
            write(feedback(record))
    except EOFError:
        status = "quit"
    except KeyboardInterrupt:
        status = "interrupted"
    return SessionResult(records, status, clock() - started)


def _ask(
    number: int,
    question: Question,
    read: Callable[[str], str],
    write: Callable[[str], None],
    asked: float,
    clock: Callable[[], float],
) -> AnswerRecord | None:
    """Read until an answer can be graded; None when the user quits."""
    while True:
        try:
            text = read("answer> ").strip()
        except LineRefusedError as refused:
            write(f"Could not read that: {refused}. Answer with {question.answer_format} (or skip, quit).")
            continue
        word = text.lower()
        if not text:
            continue
        if word in QUIT_WORDS:
            return None
        if word in HELP_WORDS:
            write(f"Answer with {question.answer_format}. Or: skip, quit.")
            continue
        if word in SKIP_WORDS:
            return AnswerRecord(number, question, text, Grade(False, "skipped"), clock() - asked, skipped=True)
        try:
            grade = question.grade(text)
        except AnswerFormatError as error:
            write(f"Could not read that: {error}. Answer with {question.answer_format} (or skip, quit).")
            continue
        return AnswerRecord(number, question, text, grade, clock() - asked)


def run_piped(
    questions: Sequence[Question],
    recorder: Recorder,
    next_line: Callable[[], AnswerLine | None],
    clock: Callable[[], float] = time.monotonic,
) -> SessionResult:
    """Grade one piped line per question, in order, reading no further than the last question needs;
    unreadable or refused lines count as wrong, missing ones as unanswered. Ctrl-C (while a line is read or
    graded) ends the session as an interruption: the answers graded so far are kept, the rest are unanswered."""
    records: list[AnswerRecord] = []
    started = clock()
    status = "finished"
    try:
        for number, question in enumerate(questions, start=1):
            line = next_line()
            if line is None:
                status = "quit"
                break
            recorder.keep(_piped_answer(number, question, line, clock), records)
    except KeyboardInterrupt:
        status = "interrupted"
    for number in range(len(records) + 1, len(questions) + 1):
        records.append(AnswerRecord(number, questions[number - 1], None, None, 0.0))
    return SessionResult(records, status, clock() - started)


def _piped_answer(number: int, question: Question, line: AnswerLine, clock: Callable[[], float]) -> AnswerRecord:
    begun = clock()
    text = line.text.strip()
    if line.problem:
        return AnswerRecord(number, question, text, Grade(False, ""), clock() - begun, error=line.problem)
    if text.lower() in SKIP_WORDS or not text:
        return AnswerRecord(number, question, text, Grade(False, "skipped"), clock() - begun, skipped=True)
    try:
        return AnswerRecord(number, question, text, question.grade(text), clock() - begun)
    except AnswerFormatError as error:
        return AnswerRecord(number, question, text, Grade(False, text), clock() - begun, error=str(error))
