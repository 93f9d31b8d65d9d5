"""Leitner scheduling, the progress store's transactions, and the drill's import cost at start-up."""

from __future__ import annotations

import itertools
import random
import sys
from pathlib import Path

import pytest
from clirunner import run_python

from cnncalc.drill.leitner import Card, after_answer, even_topics, interval, plan_topics
from cnncalc.drill.paths import data_directory, database_path
from cnncalc.drill.store import DrillDatabaseError, ProgressStore, inspect


def test_leitner_boxes_move_up_on_right_answers_and_reset_on_wrong_ones() -> None:
    card = Card()
    for expected_box in (2, 3, 4, 5, 5):
        card = after_answer(card, correct=True, session=10)
        assert card.box == expected_box
        assert card.due_session == 10 + interval(expected_box)
    assert [interval(box) for box in range(1, 6)] == [1, 2, 4, 8, 16]
    assert after_answer(card, correct=False, session=12) == Card(1, 13)


def test_due_low_box_topics_are_drawn_most() -> None:
    cards = {"weak": Card(1, 3), "strong": Card(5, 40), "middle": Card(3, 3)}
    plan = plan_topics(["weak", "strong", "middle"], cards, session=3, count=3000, rng=random.Random(1))
    assert plan.count("weak") > plan.count("middle") > plan.count("strong")
    assert all(first != second for first, second in itertools.pairwise(plan))


def test_even_plan_covers_every_topic_before_repeating() -> None:
    plan = even_topics(["a", "b", "c"], 7, random.Random(0))
    assert sorted(plan[:3]) == ["a", "b", "c"] and sorted(plan[3:6]) == ["a", "b", "c"]


def test_store_records_sessions_answers_and_cards_together(tmp_path: Path) -> None:
    store = ProgressStore.open(tmp_path / "a" / "drill.sqlite3")  # parent directories are created
    session = store.start_session("hard", 7, "interactive", 2, "all")
    store.record_answer(session, 1, "q1", "im2col", "hard", "27x9", "27x9", True, 3.5, Card(2, session + 2))
    store.finish_session(session, "finished")
    assert store.totals() == (1, 1, 1)
    assert store.cards() == {"im2col": Card(2, session + 2)}
    assert store.next_session_number() == session + 1
    [summary] = store.sessions()
    assert (summary.status, summary.answered, summary.correct, summary.planned) == ("finished", 1, 1, 2)
    # a duplicate answer number violates the schema: nothing half-saved
    with pytest.raises(DrillDatabaseError, match=r"UNIQUE constraint failed: answers\.session_id, answers\.number"):
        store.record_answer(session, 1, "q1", "im2col", "hard", "1", "27x9", False, 1.0, Card(1, 9))
    assert store.cards() == {"im2col": Card(2, session + 2)}
    store.close()
    assert inspect(tmp_path / "a" / "drill.sqlite3") is True


def test_database_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv("CNNCALC_DRILL_DB", raising=False)
    assert database_path() == tmp_path / "cnncalc" / "drill.sqlite3"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    assert data_directory() != Path("relative/ignored") / "cnncalc"
    monkeypatch.setenv("CNNCALC_DRILL_DB", str(tmp_path / "env.sqlite3"))
    assert database_path() == tmp_path / "env.sqlite3"
    assert database_path(str(tmp_path / "option.sqlite3")) == tmp_path / "option.sqlite3"


def test_start_up_imports_neither_the_drill_nor_sqlite() -> None:
    """Building every command imports neither the drill nor the calculators: they load lazily."""
    code = (
        "import sys, cnncalc.cli.app; cnncalc.cli.app.full_application(); "
        "print(sorted(m for m in sys.modules if m.startswith(('sqlite3', 'cnncalc.drill', 'cnncalc.calc', "
        "'cnncalc.cli.calc_commands', 'cnncalc.cli.drill_commands'))))"
    )
    run = run_python(code)
    assert (run.code, run.stdout) == (0, "[]\n"), run.stderr


def test_cards_read_from_a_hand_edited_database_are_made_valid() -> None:
    from cnncalc.drill.leitner import stored_card

    assert stored_card(9, 3) == Card(5, 3)
    assert stored_card(0, 3) == Card(1, 3)
    assert stored_card(2**62, -1) == Card(5, -1)
    assert stored_card("3", 4) == Card(3, 4)
    assert stored_card("x", "soon") == Card(1, 0)
    assert stored_card(None, None) == Card(1, 0)
    # A box outside 1-5 that reaches the plan anyway is weighed as the nearest box, not a KeyError.
    plan = plan_topics(["a", "b"], {"a": Card(9, 0), "b": Card(0, 0)}, session=1, count=4, rng=random.Random(2))
    assert sorted(set(plan)) == ["a", "b"]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to itself")
def test_a_hold_inside_a_hold_delivers_ctrl_c_after_the_outer_one() -> None:
    import os
    import signal

    from cnncalc.drill.store import interrupts_held

    steps: list[str] = []
    with pytest.raises(KeyboardInterrupt), interrupts_held():
        with interrupts_held():
            os.kill(os.getpid(), signal.SIGINT)
            steps.append("inner")
        steps.append("outer")  # the commit and the session's own record of it, both done
    assert steps == ["inner", "outer"]
