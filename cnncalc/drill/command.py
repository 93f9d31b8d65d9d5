"""What `cnncalc drill` does, behind its command-line options: worksheet, piped answers, or a session."""

from __future__ import annotations

import contextlib
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cnncalc.drill.answer_lines import AnswerLines
from cnncalc.drill.paths import database_path
from cnncalc.drill.plan import SessionRequest, build_questions
from cnncalc.drill.question import Level
from cnncalc.drill.session import Recorder, SessionResult, run_interactive, run_piped
from cnncalc.drill.store import ProgressStore, interrupts_held
from cnncalc.drill.summary import record_data, summary_data, summary_text
from cnncalc.drill.topics import resolve_topics
from cnncalc.drill.worksheet import json_worksheet, markdown_worksheet, plain_worksheet

INTERRUPTED_EXIT = 130  # the shell's convention for a process ended by Ctrl-C


@dataclass(frozen=True)
class DrillOptions:
    topics: tuple[str, ...]
    count: int
    level: str
    seed: int | None
    notes_only: bool
    worksheet: str | None  # markdown, plain or json: print a worksheet instead of asking
    piped_json: bool  # answers on stdin, one per line; a JSON report on stdout
    db: str | None
    save: bool


def run_drill(options: DrillOptions, read: Callable[[str], str], write: Callable[[str], None]) -> int:
    """Run the drill; returns the exit code (INTERRUPTED_EXIT after Ctrl-C in a session, which is closed as
    'interrupted'). Raises UnknownTopicError and DrillDatabaseError for the CLI, and KeyboardInterrupt from
    outside a session (a worksheet being built)."""
    request = SessionRequest(
        topics=tuple(resolve_topics(options.topics)),
        level=Level(options.level),
        count=options.count,
        seed=options.seed,
        notes_only=options.notes_only,
    )
    if options.worksheet is not None:
        return _worksheet(request, options.worksheet, write)
    store = ProgressStore.open(database_path(options.db)) if options.save else None
    try:
        return _session(request, options, store, read, write)
    finally:
        if store is not None:
            store.close()


def _worksheet(request: SessionRequest, style: str, write: Callable[[str], None]) -> int:
    # A worksheet never touches the progress database; without --seed it picks one and prints it.
    seed = request.seed if request.seed is not None else random.SystemRandom().randrange(1, 1_000_000)
    seeded = SessionRequest(request.topics, request.level, request.count, seed, request.notes_only)
    questions = build_questions(seeded)
    render = {"markdown": markdown_worksheet, "plain": plain_worksheet, "json": json_worksheet}[style]
    write(render(questions, seeded, seed).rstrip("\n"))
    return 0


def _session(
    request: SessionRequest,
    options: DrillOptions,
    store: ProgressStore | None,
    read: Callable[[str], str],
    write: Callable[[str], None],
) -> int:
    cards = store.cards() if store is not None else {}
    session_number = store.next_session_number() if store is not None else 1
    questions = build_questions(request, cards if store is not None else None, session_number)
    mode = "stdin" if options.piped_json else "interactive"
    recorder = Recorder(store, None, session_number, cards)
    try:
        with interrupts_held():  # Ctrl-C as the session starts: its row is written whole, then closed below
            if store is not None:
                topics = ",".join(request.topics) or "all"
                recorder.session_id = store.start_session(
                    request.level.value, request.seed, mode, len(questions), topics
                )
        if options.piped_json:
            # One line per question, read as it is graded: an endless stream (`yes 9472 | ...`) is not read whole.
            result = run_piped(questions, recorder, AnswerLines(sys.stdin).next)
        else:
            write(_banner(request, store.path if store is not None else None, len(questions)))
            result = run_interactive(questions, recorder, read, write)
    except KeyboardInterrupt:  # before the first question: nothing was answered
        result = SessionResult([], "interrupted", 0.0)
    with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C while closing: the answers are saved already
        recorder.finish(result.status)
    if options.piped_json:
        document = {
            "seed": request.seed,
            "level": request.level.value,
            "database": str(store.path) if store is not None else None,
            "session_id": recorder.session_id,
            "summary": summary_data(result, len(questions)),
            "questions": [record_data(record) for record in result.records],
        }
        write(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        write(summary_text(result, len(questions)))
    return INTERRUPTED_EXIT if result.status == "interrupted" else 0


def _banner(request: SessionRequest, path: Path | None, count: int) -> str:
    seed = f", seed {request.seed}" if request.seed is not None else ""
    kind = "of the study notes' examples" if request.notes_only else "questions"
    where = f"progress is saved in {path}" if path else "progress is not saved (--no-save)"
    return (
        f"cnncalc drill: {count} {kind}, level {request.level.value}{seed}; {where}.\n"
        "Type an answer and press Enter (? shows the expected format; skip; quit). "
        "Ctrl-C stops: answers given so far are kept."
    )
