"""The reliance pipeline: which config facts a proof rests on, a minimal set of them.

Deletion, as for a minimal unsatisfiable core over named assumptions: in file and line
order, each fact is relaxed on top of those already relaxed and the whole check pipeline
(read, analyse, prove) runs on the edited copy of the inputs; still proved, it stays
relaxed, else it is relied on and restored. Then each relied-on fact tested before a
later relaxation is tested again against the final set, until none changes. The result:
with every other fact relaxed the property is proved, and relaxing any one relied-on
fact as well is not proved. It is minimal, not the smallest such set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from kalc_formal.analysis.edits import LineEdit, apply
from kalc_formal.analysis.relaxations import Bound, Fact, Reliance, Trial, facts
from kalc_formal.config.reading import Inputs, read_inputs
from kalc_formal.engine import CheckOptions, analyse_inputs, check_property
from kalc_formal.errors import KalcError
from kalc_formal.model.flowmodel import Property
from kalc_formal.model.solve import Verdict
from kalc_formal.suggest import EditableCopy, InputTexts

MAX_PROOFS = 40
"""The most checks of edited inputs one --relies-on runs; each is a whole check."""


class _Prover:
    """Checks the inputs with a set of facts relaxed, counting the checks."""

    def __init__(self, copy: EditableCopy, texts: InputTexts, options: CheckOptions, prop: Property,
                 corefile_env: Mapping[str, str] | None, allow_outside_root: bool) -> None:
        self.copy = copy
        self.prop = prop
        self.texts = texts
        self.options = options
        self.corefile_env = corefile_env
        self.allow_outside_root = allow_outside_root
        self.proofs = 0

    def verdict(self, relaxed: list[Fact], extra: tuple[LineEdit, ...] = ()) -> tuple[str, str]:
        """(verdict, note) of the check with ``relaxed`` and ``extra`` applied: a
        Verdict's value, or "invalid" when the edited files cannot be read."""
        self.proofs += 1
        ids = {f.id for f in relaxed}
        by_path: dict[str, list[LineEdit]] = {}
        for edit in extra:
            by_path.setdefault(edit.path, []).append(edit)
        for fact in relaxed:
            if fact.within not in ids:
                for edit in fact.edits:
                    by_path.setdefault(edit.path, []).append(edit)
        edited: dict[str, str] = {}
        for path, edits in by_path.items():
            original = self.texts.read(path)
            new = apply(original, edits) if original is not None else None
            if new is None:
                return "invalid", "the edits could not be applied to the files as they are"
            edited[path] = new
        options = self.options
        try:
            with self.copy.edited(edited) as (paths, env_path):
                inputs = read_inputs(paths, env_path=env_path, version=options.version,
                                     allow_outside_root=self.allow_outside_root,
                                     corefile_env=self.corefile_env)
                analysis = analyse_inputs(inputs, horizon=options.horizon)
                outcome = check_property(analysis, self.prop, rlimit=options.rlimit,
                                         budget=options.budget)
        except KalcError as error:
            return "invalid", f"the edited files are not valid: {str(error).splitlines()[0]}"
        return outcome.verdict.value, outcome.reason


def relies_on(
    paths: list[str], options: CheckOptions, *, prop: Property = "upstream-limit",
    inputs: Inputs | None = None, max_proofs: int = MAX_PROOFS, corefile_env: Mapping[str, str] | None = None,
    allow_outside_root: bool = False,
) -> Reliance:
    """The facts of the inputs at ``paths`` that the proof of ``prop`` needs;
    ``inputs``: those paths as already read with the same options."""
    texts = InputTexts()
    if inputs is None:
        inputs = read_inputs(paths, env_path=options.env_path, version=options.version,
                             allow_outside_root=allow_outside_root, corefile_env=corefile_env)
    found = facts(inputs, texts.read)
    trials: dict[str, Trial] = {}
    relaxed: list[Fact] = []
    tested_against: dict[str, frozenset[str]] = {}
    with EditableCopy(paths, options.env_path) as copy:
        prover = _Prover(copy, texts, options, prop, corefile_env, allow_outside_root)
        for fact in found:
            if not fact.edits:
                trials[fact.id] = Trial(fact, "untested", note=fact.why_not)
            elif fact.within in {f.id for f in relaxed}:
                relaxed.append(fact)
                trials[fact.id] = Trial(fact, "relaxed", note="removed with the element it is in")
            elif prover.proofs >= max_proofs:
                trials[fact.id] = Trial(fact, "untested", note="the proof budget was spent")
            else:
                tested_against[fact.id] = frozenset(f.id for f in relaxed)
                trials[fact.id] = _trial(fact, *prover.verdict([*relaxed, fact]))
                if trials[fact.id].status == "relaxed":
                    relaxed.append(fact)
        _recheck(found, trials, relaxed, tested_against, prover, max_proofs)
        for fact in found:
            if trials[fact.id].status == "relied-on" and fact.bound is not None:
                trials[fact.id] = _weakest(trials[fact.id], fact.bound, relaxed, prover, max_proofs)
        proofs = prover.proofs
    return Reliance(tuple(trials[f.id] for f in found), proofs, max_proofs, prop)


def _trial(fact: Fact, verdict: str, note: str) -> Trial:
    if verdict == Verdict.PROVED.value:
        return Trial(fact, "relaxed", verdict)
    if verdict in (Verdict.UNSAFE.value, Verdict.SAFE_BOUNDED.value):
        return Trial(fact, "relied-on", verdict)
    return Trial(fact, "undecided", verdict, note)


def _recheck(found: list[Fact], trials: dict[str, Trial], relaxed: list[Fact],
             tested_against: dict[str, frozenset[str]], prover: _Prover, max_proofs: int) -> None:
    """Test again each relied-on fact that was tested before a later relaxation, against
    the set relaxed now, until no fact moves (each pass relaxes one more fact or ends)."""
    changed = True
    while changed:
        changed = False
        for fact in found:
            now = frozenset(f.id for f in relaxed)
            if trials[fact.id].status != "relied-on" or tested_against[fact.id] == now:
                continue
            if fact.within in now:
                relaxed.append(fact)
                trials[fact.id] = Trial(fact, "relaxed", note="removed with the element it is in")
                changed = True
                continue
            if prover.proofs >= max_proofs:
                trials[fact.id] = Trial(fact, "undecided", note="the proof budget was spent "
                                        "before it was checked against the final set")
                continue
            tested_against[fact.id] = now
            trial = _trial(fact, *prover.verdict([*relaxed, fact]))
            trials[fact.id] = trial
            if trial.status == "relaxed":
                relaxed.append(fact)
                changed = True


def _weakest(trial: Trial, bound: Bound, relaxed: list[Fact], prover: _Prover,
             max_proofs: int) -> Trial:
    """The weakest of the bound's values with which the final set is still proved, by
    bisection (the written value is proved; the property is taken to be monotone in the
    value, and the value found is proved and its weaker neighbour is not)."""
    values = bound.values
    proved, failed = len(values) - 1, -1
    while proved - failed > 1:
        if prover.proofs >= max_proofs:
            return replace(trial, weakest=values[proved],
                           weakest_note="the proof budget was spent: a weaker value may also prove")
        middle = (proved + failed) // 2
        verdict, _ = prover.verdict(relaxed, bound.edit(values[middle]))
        if verdict == Verdict.PROVED.value:
            proved = middle
        elif verdict in (Verdict.UNSAFE.value, Verdict.SAFE_BOUNDED.value):
            failed = middle
        else:
            return replace(trial, weakest=values[proved],
                           weakest_note=f"the check with {values[middle]} ended {verdict}")
    return replace(trial, weakest=values[proved])
