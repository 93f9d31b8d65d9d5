"""`cnncalc drill`: interview practice, `drill stats` and `drill topics`.

Loaded only when `cnncalc drill` runs (see cnncalc.cli.drill); the question bank, SQLite and the engine are
imported when a drill command runs.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated

import typer

from cnncalc.cli.options import ColorOption, FormatOption, OutputFormat
from cnncalc.drill.catalog import SUMMARIES
from cnncalc.drill.question import Level
from cnncalc.render.style import ColorChoice

if TYPE_CHECKING:
    from cnncalc.drill.command import DrillOptions

drill_app = typer.Typer(  # its help is DRILL_HELP, on the callback below
    rich_markup_mode=None,  # plain click help, as the main application's
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120},
)


class WorksheetFormat(str, enum.Enum):
    markdown = "markdown"
    plain = "plain"
    json = "json"


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Progress database file. Default: $CNNCALC_DRILL_DB, else drill.sqlite3 in $XDG_DATA_HOME/cnncalc "
        "(~/.local/share/cnncalc).",
    ),
]


# Typer keeps a help text's line breaks, so paragraphs are single lines here (joined from short pieces).
DRILL_HELP = (
    "Practise CNN arithmetic for interviews: shapes, params, MACs/FLOPs, receptive fields and more.\n\n"
    "Each answer is graded against the engine and followed by the worked solution; the session ends with the "
    "score, accuracy per topic and time per question. Progress is kept in a SQLite database, with spaced "
    "repetition: topics you get wrong come back sooner (`cnncalc drill stats` shows them).\n\n"
    "Answers are read forgivingly: 9472, 9,472, 9_472, 9.472K, 1.5e9, 1.5G, 64x112x112, (64, 112, 112), "
    "1/9, 0.111, 11%. Type ? for the expected format, skip, or quit.\n\n"
    f"Topics: {', '.join(SUMMARIES)} (`cnncalc drill topics` lists them with their aliases).\n\n"
    "Examples: cnncalc drill --topic rf --level hard;  cnncalc drill --print --seed 7 --count 20;  "
    "printf '9472\\n' | cnncalc drill --json --seed 7 --count 1"
)


def complete_topic(incomplete: str) -> list[str]:
    """Topic names and their aliases, for shell completion; after a comma, the next topic of the list."""
    from cnncalc.drill.catalog import ALIASES

    done, _, last = incomplete.rpartition(",")
    prefix = f"{done}," if done else ""
    return [prefix + name for name in [*SUMMARIES, *sorted(ALIASES)] if name.startswith(last)]


@drill_app.callback(invoke_without_command=True, help=DRILL_HELP)
def drill(
    ctx: typer.Context,
    topic: Annotated[
        list[str] | None,
        typer.Option(
            "--topic",
            "-t",
            help="Only these topics (repeat, or separate with commas; aliases like rf, flops, bn work). "
            "`cnncalc drill topics` lists them.",
            autocompletion=complete_topic,
        ),
    ] = None,
    count: Annotated[int, typer.Option("--count", "-n", min=1, max=500, help="How many questions.")] = 10,
    level: Annotated[Level, typer.Option("--level", "-l", help="Difficulty.", case_sensitive=False)] = Level.medium,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Reproducible questions: the same seed gives the same set.")
    ] = None,
    notes: Annotated[bool, typer.Option("--notes", help="Only the study notes' own worked examples.")] = False,
    print_worksheet: Annotated[
        bool, typer.Option("--print", help="Print a worksheet with an answer key instead of asking.")
    ] = False,
    worksheet_format: Annotated[
        WorksheetFormat, typer.Option("--format", "-f", help="Worksheet format (with --print).", case_sensitive=False)
    ] = WorksheetFormat.markdown,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Non-interactive: read one answer per line from stdin, print a JSON report."),
    ] = False,
    db: DbOption = None,
    no_save: Annotated[bool, typer.Option("--no-save", help="Do not record this session's progress.")] = False,
) -> None:
    """Practise CNN arithmetic (see DRILL_HELP)."""
    ctx.obj = {"db": db}
    if ctx.invoked_subcommand is not None:
        return
    from cnncalc.drill.command import DrillOptions

    options = DrillOptions(
        topics=tuple(topic or ()),
        count=count,
        level=level.value,
        seed=seed,
        notes_only=notes,
        worksheet=worksheet_format.value if print_worksheet else None,
        piped_json=as_json,
        db=db,
        save=not no_save,
    )
    raise typer.Exit(_run(options))


@drill_app.command("stats")
def stats(
    ctx: typer.Context,
    db: DbOption = None,
    output_format: FormatOption = OutputFormat.table,
    color: ColorOption = ColorChoice.auto,
) -> None:
    """History, accuracy per topic, Leitner boxes and the weakest topics."""
    import json

    from cnncalc.cli.common import printer, write_text
    from cnncalc.drill.paths import chosen, database_path
    from cnncalc.drill.stats import (
        empty_stats_data,
        no_database_text,
        print_stats,
        stats_csv,
        stats_data,
        stats_markdown,
    )
    from cnncalc.drill.store import DrillDatabaseError, ProgressStore, require_directory

    option = db or (ctx.obj or {}).get("db")
    path = database_path(option)
    try:
        if chosen(option):
            # A chosen file in a directory that does not exist is a mistyped path, not a new user's empty history
            # (the default directory is only made by the first session).
            require_directory(path)
        store = ProgressStore.open_read_only(path)  # stats never writes, never creates a database or a file
    except DrillDatabaseError as error:
        raise _database_failure(error) from None
    if store is None:
        data = empty_stats_data(path)
    else:
        try:
            data = stats_data(store)
        finally:
            store.close()
    if output_format is OutputFormat.json:
        write_text(json.dumps(data, indent=2))
    elif output_format is OutputFormat.csv:
        write_text(stats_csv(data))
    elif output_format is OutputFormat.markdown:
        write_text(stats_markdown(data))
    elif store is None:
        printer(color).line(no_database_text(path))
    else:
        print_stats(printer(color), data)


@drill_app.command("topics")
def topics() -> None:
    """The question families, with the aliases --topic accepts."""
    import os
    import sys
    import textwrap

    from cnncalc.drill.catalog import ALIASES
    from cnncalc.render.style import output_width

    width = max(len(name) for name in SUMMARIES)
    # wrapped to the terminal (80 columns into a pipe), continuation lines under the summaries
    columns = max(output_width(sys.stdout, os.environ) or 80, width + 30)
    for name, summary in SUMMARIES.items():
        aliases = sorted(alias for alias, target in ALIASES.items() if target == name)
        also = f" (also: {', '.join(aliases)})" if aliases else ""
        lines = textwrap.wrap(f"{summary}{also}", columns - width - 2, break_long_words=False)
        print(f"{name:<{width}}  " + f"\n{' ' * (width + 2)}".join(lines))


def _run(options: DrillOptions) -> int:
    import contextlib
    import sys

    from cnncalc.drill.command import run_drill
    from cnncalc.drill.store import DrillDatabaseError
    from cnncalc.drill.topics import UnknownTopicError

    def write(text: str) -> None:
        print(text, flush=True)  # flushed: a reader on a pipe sees each question and each verdict at once

    from cnncalc.drill.answer_lines import AnswerLines, LineRefusedError

    # A terminal gives input() one edited line at a time. Anything else (a pipe, a file) may be endless or one
    # endless line: it is read one bounded line per answer.
    piped = None if sys.stdin.isatty() else AnswerLines(sys.stdin)

    def read(prompt: str) -> str:
        if piped is None:
            return input(prompt)
        print(prompt, end="", flush=True)
        line = piped.next()
        if line is None:
            raise EOFError
        # Piped answers are not echoed by a terminal: show them, so the transcript reads right.
        print(line.text if not line.problem else f"{line.text[:40]}…", flush=True)
        if line.problem:
            raise LineRefusedError(line.problem)
        return line.text

    if piped is None:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history for input())
    try:
        return run_drill(options, read, write)
    except KeyboardInterrupt:
        # Outside a session (a session closes itself as 'interrupted' and returns the code): a worksheet being
        # built or printed, questions being drawn. The shell's code for Ctrl-C, not click's "Aborted!" and 1.
        from cnncalc.drill.command import INTERRUPTED_EXIT

        print("cnncalc drill: interrupted", file=sys.stderr)
        return INTERRUPTED_EXIT
    except UnknownTopicError as error:
        from cnncalc.base.errors import ExitCode
        from cnncalc.cli.failure import fail

        raise fail(str(error), ExitCode.USAGE, error.hint) from None
    except DrillDatabaseError as error:
        raise _database_failure(error) from None


def _database_failure(error: Exception) -> typer.Exit:
    """A progress database that cannot be used ends like an unusable path argument: exit code 2."""
    from cnncalc.base.errors import ExitCode
    from cnncalc.cli.failure import fail

    return fail(getattr(error, "message", str(error)), ExitCode.USAGE, getattr(error, "hint", ""))
