"""The suggest pipeline: the smallest sets of candidate fixes that make the property
proved, each proved by the check pipeline on an edited copy of the inputs before it is
shown, ranked by what it costs, and written as a patch of the exact lines.
"""

from __future__ import annotations

import difflib
import itertools
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from kalc_formal.analysis.edits import (
    APPLICATION,
    Candidate,
    LineEdit,
    Suggestion,
    Suggestions,
    apply,
    candidates,
    merge_edits,
)
from kalc_formal.analysis.fixes import further_candidates
from kalc_formal.analysis.result import Analysis, client_load
from kalc_formal.config.reading import Inputs, read_inputs
from kalc_formal.engine import CheckOptions, analyse_inputs, check_properties
from kalc_formal.errors import KalcError
from kalc_formal.inputs.files import MIB, read_regular_file
from kalc_formal.inputs.gitrev import repository_top
from kalc_formal.model.flowmodel import Property
from kalc_formal.model.solve import Outcome, Verdict

MAX_FILE_BYTES = 64 * MIB
MAX_SET_SIZE = 2
MAX_CHECKS = 32
"""The most candidate sets checked; each is a whole check of the edited cluster."""


def _proves(outcomes: Mapping[Property, Outcome]) -> bool:
    """Whether a check of an edited cluster proves what a suggestion must make hold: every
    property it decides."""
    return all(outcome.verdict is Verdict.PROVED for outcome in outcomes.values())


def _verdicts(outcomes: Mapping[Property, Outcome]) -> str:
    if len(outcomes) == 1:
        return next(iter(outcomes.values())).verdict.value
    return "; ".join(f"{name} {outcome.verdict.value}" for name, outcome in outcomes.items())


def suggest(paths: list[str], inputs: Inputs, analysis: Analysis, options: CheckOptions) -> Suggestions:
    """Try the candidates alone, then in pairs of those that were not enough alone."""
    texts = InputTexts()
    found = [c for c in (*candidates(inputs, analysis, texts.read),
                         *further_candidates(inputs, analysis, texts.read, paths))
             if _patchable(c)]
    base_clients, base_replica = _costs(analysis)
    properties: tuple[Property, ...] = ("upstream-limit", "server-load") \
        if analysis.model.server_limits else ("upstream-limit",)
    proved: list[Suggestion] = []
    not_proved: list[tuple[tuple[str, ...], str]] = []
    checks = 0
    with EditableCopy(paths, options.env_path) as copy:
        for size in range(1, MAX_SET_SIZE + 1):
            for chosen in itertools.combinations(found, size):
                if any(set(p.candidates) <= set(chosen) for p in proved) or _overlap(chosen):
                    continue
                if checks >= MAX_CHECKS:
                    return Suggestions(base_clients, base_replica, _ranked(proved),
                                       tuple(not_proved), checks, True, properties)
                checks += 1
                result = _try(copy, chosen, texts, options)
                if isinstance(result, Suggestion):
                    proved.append(result)
                else:
                    not_proved.append((tuple(c.title for c in chosen), result))
    return Suggestions(base_clients, base_replica, _ranked(proved), tuple(not_proved), checks,
                       False, properties)


def _overlap(chosen: tuple[Candidate, ...]) -> bool:
    """Whether two of the candidates' edits of one line cannot both be made."""
    return merge_edits([e for c in chosen for e in c.edits]) is None


def _ranked(proved: list[Suggestion]) -> tuple[Suggestion, ...]:
    return tuple(sorted(proved, key=lambda s: s.rank))


def _patchable(candidate: Candidate) -> bool:
    return all(os.path.isfile(edit.path) for edit in candidate.edits) and not any(
        os.path.exists(new.path) for new in candidate.new_files)


def _try(copy: EditableCopy, chosen: tuple[Candidate, ...], texts: InputTexts,
         options: CheckOptions) -> Suggestion | str:
    merged = merge_edits([e for c in chosen for e in c.edits])
    if merged is None:
        return "could not be applied together"
    edits: dict[str, list[LineEdit]] = {}
    for edit in merged:
        edits.setdefault(edit.path, []).append(edit)
    edited: dict[str, str] = {}
    for path, file_edits in edits.items():
        original = texts.read(path)
        new = apply(original, file_edits) if original is not None else None
        if new is None:
            return "could not be applied to the files as they are"
        edited[path] = new
    added = {new.path: new.text for candidate in chosen for new in candidate.new_files}
    with copy.edited(edited, added) as (paths, env_path):
        try:
            inputs = read_inputs(paths, env_path=env_path, version=options.version)
            analysis = analyse_inputs(inputs, horizon=options.horizon)
            outcomes = check_properties(analysis, rlimit=options.rlimit, budget=options.budget)
        except KalcError as error:
            return f"the edited files are not valid: {str(error).splitlines()[0]}"
    if not _proves(outcomes):
        return _verdicts(outcomes)
    clients, replica = _costs(analysis)
    shown = {e.path for c in chosen if c.kind != APPLICATION for e in c.edits}
    patch = "".join(_patch(path, texts.read(path) or "", text)
                    for path, text in edited.items() if path in shown)
    patch += "".join(_patch(path, "", text, new=True) for path, text in added.items())
    return Suggestion(chosen, analysis, outcomes["upstream-limit"], patch, clients, replica,
                      sum(c.pods_restarted for c in chosen))


def _costs(analysis: Analysis) -> tuple[int, int]:
    """Client queries per second in the cluster at peak, and at the busiest replica."""
    model = analysis.model
    total = sum(len(analysis.flows[f.id].client_queries) * f.peak for f in model.flows)
    busiest = max((peak for _, peak in client_load(analysis).values()), default=0)
    return total // analysis.step_seconds, busiest


def _patch(path: str, before: str, after: str, *, new: bool = False) -> str:
    shown = _patch_path(path)
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True),
        fromfile="/dev/null" if new else f"a/{shown}", tofile=f"b/{shown}",
    )
    return "".join(lines)


def _patch_path(path: str) -> str:
    """The path as `git apply` reads it: from the top of the work tree, else as given."""
    absolute = Path(path).resolve()
    top = repository_top(absolute.parent)
    if top is not None:
        try:
            return absolute.relative_to(top.resolve()).as_posix()
        except ValueError:
            pass
    return Path(os.path.relpath(absolute)).as_posix()


class InputTexts:
    """The input files' texts, read once each."""

    def __init__(self) -> None:
        self._texts: dict[str, str | None] = {}

    def read(self, path: str) -> str | None:
        if path not in self._texts:
            try:
                data = read_regular_file(path, MAX_FILE_BYTES)
                self._texts[path] = data.decode("utf-8") if len(data) <= MAX_FILE_BYTES else None
            except (OSError, UnicodeDecodeError):
                self._texts[path] = None
        return self._texts[path]


class EditableCopy:
    """A private copy of the input paths in which edited files can be put in place."""

    def __init__(self, paths: list[str], env_path: str | None = None) -> None:
        self.paths = paths
        self.env_path = env_path
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._mapping: list[tuple[str, str]] = []
        self._copied_env: str | None = None

    def __enter__(self) -> EditableCopy:
        self._scratch = tempfile.TemporaryDirectory(prefix="kalc-suggest-")
        root = Path(self._scratch.name)
        self._copy_paths(root)
        if self.env_path is not None:
            self._copied_env = self.copied(self.env_path)
            if self._copied_env is None:
                target = root / "env" / Path(self.env_path).name
                target.parent.mkdir(parents=True)
                shutil.copy2(self.env_path, target)
                self._mapping.append((self.env_path, str(target)))
                self._copied_env = str(target)
        return self

    def _copy_paths(self, root: Path) -> None:
        for index, path in enumerate(self.paths):
            target = root / str(index) / (Path(path).name or "input")
            if os.path.isdir(path):
                shutil.copytree(path, target, symlinks=True)
            else:
                target.parent.mkdir(parents=True)
                shutil.copy2(path, target)
            self._mapping.append((path, str(target)))

    def __exit__(self, *exc: object) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()

    def copied(self, path: str) -> str | None:
        for original, target in self._mapping:
            if path == original:
                return target
            prefix = original.rstrip("/") + "/"
            if path.startswith(prefix):
                return os.path.join(target, path[len(prefix):])
        return None

    def copied_paths(self) -> list[str]:
        return [target for path, target in self._mapping if path in self.paths]

    def copied_env(self) -> str | None:
        return self._copied_env

    def edited(self, texts: dict[str, str], added: dict[str, str] | None = None) -> _Edited:
        return _Edited(self, texts, added or {})


class _Edited:
    """The copy with some files edited and some added, restored on exit."""

    def __init__(self, copy: EditableCopy, texts: dict[str, str], added: dict[str, str]) -> None:
        self.copy = copy
        self.texts = texts
        self.added = added
        self.saved: list[tuple[Path, bytes]] = []
        self.created: list[Path] = []

    def __enter__(self) -> tuple[list[str], str | None]:
        for path, text in self.texts.items():
            target = self._target(path)
            self.saved.append((target, target.read_bytes()))
            target.write_text(text, encoding="utf-8")
        for path, text in self.added.items():
            target = self._target(path)
            if target.exists():
                raise KalcError(f"{path} exists already")
            target.write_text(text, encoding="utf-8")
            self.created.append(target)
        return self.copy.copied_paths(), self.copy.copied_env()

    def _target(self, path: str) -> Path:
        target = self.copy.copied(path)
        if target is None:
            raise KalcError(f"{path} is not under the checked paths")
        return Path(target)

    def __exit__(self, *exc: object) -> None:
        for target, data in self.saved:
            target.write_bytes(data)
        for created in self.created:
            created.unlink()

