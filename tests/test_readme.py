"""The README's example outputs are the program's: every command shown in a README block
is run, and each line the README shows must appear in its output, in order ("..." marks
lines left out). Paths and widths are as the README gives them, from the repository root.
"""

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


@pytest.mark.parametrize(("argv", "shown", "files"), CASES)
def test_each_line_the_readme_shows_is_in_the_output(argv, shown, files, capsys, monkeypatch,
                                                     tmp_path):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    main(argv)
    output = capsys.readouterr().out.splitlines()
    position = 0
    for line in shown:
        if line.strip() in ("", "..."):
            continue
        while position < len(output) and output[position].rstrip() != line.rstrip():
            position += 1
        assert position < len(output), f"README shows a line the program does not print: {line!r}"
        position += 1


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
