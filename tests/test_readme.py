"""The README's example outputs are the program's: every command shown in a README block
is run, and the lines the README shows under it must equal its output, line for line.
A line "..." stands for a run of one or more lines left out; paths are normalised (the
repository root and the test's folder are taken off); nothing else is. Commands run in a
scratch folder that holds the files a block writes with `$ cat` and a link to examples/.
"""

import difflib
import shlex
from pathlib import Path

import pytest

from kalc_formal.cli import main

ROOT = Path(__file__).resolve().parent.parent


def blocks() -> list[tuple[int, list[str]]]:
    """The README's code blocks that show a `$ kalc-formal` run, with their line number."""
    found = []
    lines = (ROOT / "README.md").read_text().splitlines()
    inside, start, current = False, 0, []
    for number, line in enumerate(lines, 1):
        if line.startswith("```"):
            if inside and any(text.startswith("$ kalc-formal ") for text in current):
                found.append((start, current))
            inside, start, current = not inside, number + 1, []
        elif inside:
            current.append(line)
    return found


def runs(block: list[str]) -> list[tuple[list[str], list[str], dict[str, str]]]:
    """(argv, shown lines, files written by `$ cat`) per command of a block."""
    result: list[tuple[list[str], list[str], dict[str, str]]] = []
    files: dict[str, str] = {}
    command: list[str] | None = None
    cat: str | None = None
    for line in block:
        if line.startswith("$ cat "):
            cat = line.removeprefix("$ cat ").strip()
            files[cat] = ""
        elif line.startswith("$ kalc-formal "):
            cat = None
            command = shlex.split(line.removeprefix("$ kalc-formal "))
            result.append((command, [], dict(files)))
        elif cat is not None:
            files[cat] += line + "\n"
        elif command is not None:
            result[-1][1].append(line)
    return result


CASES = [
    pytest.param(argv, shown, files, id=f"README:{start}:{' '.join(argv[:2])}")
    for start, block in blocks()
    for argv, shown, files in runs(block)
]


def test_the_readme_shows_runs():
    assert len(CASES) >= 5


ELLIPSIS = "..."


def segments(shown: list[str]) -> list[list[str]]:
    """The runs of lines between the "..." lines (an empty run where "..." opens or
    closes the block, or two of them meet)."""
    result: list[list[str]] = [[]]
    for line in shown:
        if line.strip() == ELLIPSIS:
            result.append([])
        else:
            result[-1].append(line)
    return result


def find(run: list[str], lines: list[str], start: int) -> int:
    """The first position at or after ``start`` where ``lines`` holds ``run``; -1 if none."""
    for position in range(start, len(lines) - len(run) + 1):
        if lines[position : position + len(run)] == run:
            return position
    return -1


def matches(shown: list[str], output: list[str]) -> bool:
    """Whether ``output`` is ``shown`` with each "..." replaced by one or more lines.

    >>> matches(["a", "...", "d"], ["a", "b", "c", "d"])
    True
    >>> matches(["a", "...", "d"], ["a", "d"])
    False
    >>> matches(["a", "b"], ["a", "b", "c"])
    False
    """
    runs = segments(shown)
    if len(runs) == 1:
        return output == runs[0]
    first, *middle, last = runs
    if output[: len(first)] != first:
        return False
    end = len(output) - len(last)
    if end < len(first) or output[end:] != last:
        return False
    position = len(first)
    for run in middle:
        found = find(run, output[:end], position + 1)
        if found < 0:
            return False
        position = found + len(run)
    return end > position


def normalised(text: str, *folders: Path) -> list[str]:
    for folder in folders:
        text = text.replace(f"{folder}/", "")
    return text.splitlines()


@pytest.mark.parametrize(("argv", "shown", "files"), CASES)
def test_the_readme_shows_the_output(argv, shown, files, capsys, monkeypatch, tmp_path):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    main(argv)
    output = normalised(capsys.readouterr().out, ROOT, tmp_path)
    if not matches(shown, output):
        diff = "\n".join(difflib.unified_diff(shown, output, "README", "output", lineterm=""))
        pytest.fail(f"the README's block differs from the output of {shlex.join(argv)}:\n{diff}")


@pytest.mark.parametrize(
    ("shown", "output", "expected"),
    [
        (["a", "b"], ["a", "b"], True),
        (["a", "b"], ["a", "B"], False),
        (["a", "b"], ["a", "b "], False),
        (["a", ""], ["a"], False),
        (["a", "...", "z"], ["a", "m", "n", "z"], True),
        (["a", "...", "z"], ["a", "z"], False),
        (["a", "..."], ["a", "b"], True),
        (["a", "..."], ["a"], False),
        (["...", "z"], ["x", "z"], True),
        (["a", "...", "m", "...", "z"], ["a", "b", "m", "c", "z"], True),
        (["a", "...", "m", "...", "z"], ["a", "m", "c", "z"], False),
        (["a", "...", "m", "...", "z"], ["a", "b", "c", "z"], False),
        (["a", "...", "m", "...", "z"], ["a", "b", "m", "z"], False),
    ],
)
def test_an_ellipsis_stands_for_one_or_more_lines_and_nothing_else_is_loose(shown, output, expected):
    assert matches(shown, output) is expected


def test_paths_are_the_only_thing_normalised(tmp_path):
    text = f"{ROOT}/examples/x.yaml:1:1 and {tmp_path}/pod-resolv.conf  \n"
    assert normalised(text, ROOT, tmp_path) == ["examples/x.yaml:1:1 and pod-resolv.conf  "]


def test_the_readme_kalc_yaml_is_valid(tmp_path):
    from kalc_formal.config.envspec import load_env

    text = (ROOT / "README.md").read_text()
    start = text.index("```yaml\n", text.index("## kalc.yaml: what the world may do")) + 8
    path = tmp_path / "kalc.yaml"
    path.write_text(text[start : text.index("```", start)])
    spec = load_env(path)
    assert spec.check.arrivals is not None
    assert spec.check.arrivals.value == "any"
    assert spec.upstreams is not None
    assert [u.window for u in spec.upstreams.value] == ["sliding"]
