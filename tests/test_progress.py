"""The progress line of a long solve: on a terminal only, after a delay, phase and depth
and elapsed time, erased at the end; silent otherwise and with --quiet."""

import io
import re
import time
from pathlib import Path

import pytest

from kalc_formal.cli import main
from kalc_formal.commands.progress import ERASE, Progress
from kalc_formal.config.reading import read_inputs
from kalc_formal.engine import analyse_inputs, check

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
LINE = re.compile(r"kalc-formal: solving: [a-z -]+( at depth \d+)?, \d+\.\d s")


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_solver_reports_each_phase_and_depth_and_the_line_shows_them():
    analysis = analyse_inputs(read_inputs([str(EXAMPLES / "datadog-autopath-off-sized")]))
    seen = []
    stream = Terminal()
    with Progress(stream, after=0, every=0.005) as progress:
        def record(phase, depth):
            seen.append((phase, depth))
            progress.at(phase, depth)
            time.sleep(0.02)  # give the drawing thread a turn at each phase
        outcome = check(analysis, on_progress=record)
    assert outcome.verdict.value == "proved"
    assert ("k-induction", outcome.induction_depth) in seen
    assert ("search for the shortest violation", 0) in seen
    drawn = [part for part in stream.getvalue().split(ERASE) if part]
    assert drawn
    assert all(LINE.fullmatch(part) for part in drawn), drawn
    assert any(" at depth " in part for part in drawn)
    assert stream.getvalue().endswith(ERASE)


def test_the_line_names_phase_depth_and_elapsed_time():
    progress = Progress(Terminal())
    progress.at("k-induction", 3)
    assert re.fullmatch(r"kalc-formal: solving: k-induction at depth 3, \d+\.\d s", progress.line())
    progress.at("smallest surge")
    assert "smallest surge, " in progress.line()


@pytest.mark.parametrize(("stream", "enabled"), [(io.StringIO(), True), (Terminal(), False)])
def test_silent_when_not_a_terminal_or_quiet(stream, enabled):
    with Progress(stream, enabled=enabled, after=0, every=0.005) as progress:
        progress.at("k-induction", 1)
        time.sleep(0.05)
    assert stream.getvalue() == ""


def test_nothing_is_drawn_for_a_solve_shorter_than_the_delay():
    stream = Terminal()
    with Progress(stream, after=10) as progress:
        progress.at("k-induction", 1)
    assert stream.getvalue() == ""


def test_check_takes_quiet(capsys):
    assert main(["check", str(EXAMPLES / "small-cluster"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("verdict: proved")
    assert captured.err == ""
