"""A path as it was at a git revision, written to a folder so it can be read like any input.

Only regular files are taken (no symbolic links, no submodules), each and all together
within size limits; nothing outside the given path is written.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from kalc_formal.errors import InvalidArgument

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_TOTAL_BYTES = 256 * 1024 * 1024
MAX_FILES = 20_000
GIT_TIMEOUT_SECONDS = 60
_REVISION = re.compile(r"[A-Za-z0-9_./~^@{}+-]{1,200}")


@dataclass(frozen=True, slots=True)
class Revision:
    """``path`` of the repository holding ``folder``, at ``revision``."""

    revision: str
    path: str

    @property
    def label(self) -> str:
        return f"{self.revision}:{self.path}"


def parse_revision(text: str, default_path: str) -> Revision:
    """``REV`` or ``REV:PATH``; without a path, ``default_path`` (the other side's)."""
    revision, _, path = text.partition(":")
    if not _REVISION.fullmatch(revision) or revision.startswith("-"):
        raise InvalidArgument(f"--git: not a git revision: {text[:80]!r}")
    return Revision(revision, path or default_path)


def checkout(revision: Revision, into: Path, *, cwd: Path | None = None) -> Path:
    """Write ``revision.path`` as it was at ``revision.revision`` under ``into``; return
    the written path (a file or a folder), named as in the repository."""
    where = cwd or Path.cwd()
    top = Path(_git(["rev-parse", "--show-toplevel"], where).strip())
    relative = _in_repository(top, where, revision.path)
    tree = _git(["ls-tree", "-r", "-z", "--full-tree", revision.revision, "--", relative.as_posix()], top)
    entries = [e for e in tree.split("\0") if e]
    if not entries:
        raise InvalidArgument(f"--git: {revision.label}: no such path at that revision")
    if len(entries) > MAX_FILES:
        raise InvalidArgument(f"--git: {revision.label}: more than {MAX_FILES:,} files")
    total = 0
    for entry in entries:
        meta, _, name = entry.partition("\t")
        mode, kind, blob = meta.split()
        if kind != "blob" or mode not in ("100644", "100755"):
            continue
        size = int(_git(["cat-file", "-s", blob], top).strip())
        total += size
        if size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
            raise InvalidArgument(f"--git: {revision.label}: {name} is past the size limit")
        target = into / PurePosixPath(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_git_bytes(["cat-file", "blob", blob], top))
    return into / relative


def _in_repository(top: Path, where: Path, path: str) -> PurePosixPath:
    absolute = (where / path).resolve()
    try:
        relative = absolute.relative_to(top.resolve())
    except ValueError:
        raise InvalidArgument(f"--git: {path} is outside the repository at {top}") from None
    return PurePosixPath(relative.as_posix())


def _git(arguments: list[str], cwd: Path) -> str:
    return _git_bytes(arguments, cwd).decode("utf-8", "replace")


def _git_bytes(arguments: list[str], cwd: Path) -> bytes:
    try:
        done = subprocess.run(
            ["git", *arguments], cwd=cwd, capture_output=True, timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        raise InvalidArgument("--git: the git program is not installed") from None
    except subprocess.TimeoutExpired:
        raise InvalidArgument(f"--git: git {arguments[0]} took longer than "
                              f"{GIT_TIMEOUT_SECONDS} s") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InvalidArgument(f"--git: git {arguments[0]}: {message[0] if message else 'failed'}")
    return done.stdout


def repository_top(where: Path) -> Path | None:
    """The top folder of the git work tree holding ``where``; None outside one (or
    without git)."""
    try:
        return Path(_git(["rev-parse", "--show-toplevel"], where).strip())
    except InvalidArgument:
        return None
