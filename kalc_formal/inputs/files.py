"""Input stage: find the files to read and read them within a size limit.

Folders are searched recursively in sorted order, so output is deterministic;
``-`` stands for stdin. Nothing outside a given folder is read through a
symbolic link unless the caller opts in.
"""

from __future__ import annotations

import gc
import os
import stat
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TextIO

from kalc_formal.errors import ConfigError
from kalc_formal.source import Span

__all__ = ["MIB", "STDIN_PATH", "InputFile", "find_input_files", "read_input_file"]

MIB = 1024 * 1024
STDIN_PATH = "<stdin>"


@dataclass(frozen=True, slots=True)
class InputFile:
    """A file to read: ``path`` names it in messages; ``read_from`` is None for stdin."""

    path: str
    read_from: str | None


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while large inputs are read and built:
    their many small objects make it run often and find nothing (5,000 Deployments:
    5.7 s to load and build with it, 2.0 s without)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


NOT_MANIFESTS = frozenset({"kalc.yaml", "kalc.yml"})
"""Files a folder search passes over: the environment spec is read on its own."""


def find_input_files(
    paths: Sequence[str],
    *,
    suffixes: tuple[str, ...],
    max_files: int,
    allow_outside_root: bool = False,
) -> tuple[list[InputFile], list[ConfigError]]:
    """The files to read for ``paths``, in order, and an error for each bad path.

    A folder is searched recursively, in sorted order, for names ending in one
    of ``suffixes`` (any case), skipping hidden files and folders and
    following a symbolic link only if it stays inside the folder (or
    ``allow_outside_root``). A file named explicitly is read whatever its name;
    ``-`` is stdin, shown as ``<stdin>``.
    """
    inputs: list[InputFile] = []
    errors: list[ConfigError] = []
    for path in paths:
        if path == "-":
            if any(i.read_from is None for i in inputs):
                errors.append(ConfigError("'-' (stdin) is given more than once"))
            else:
                inputs.append(InputFile(STDIN_PATH, None))
            continue
        try:
            mode = os.stat(path).st_mode
        except OSError as error:
            errors.append(ConfigError(f"{path}: {error.strerror or 'cannot read'}"))
            continue
        if stat.S_ISDIR(mode):
            walk = _Walk(path, suffixes, allow_outside_root, errors)
            found = list(walk.files(path))
            if not found:
                wanted = [f"*{suffix}" for suffix in suffixes]
                names = ", ".join(wanted[:-1]) + " or " + wanted[-1]
                errors.append(ConfigError(f"{path}: no {names} files in this folder"))
            inputs.extend(InputFile(found_path, found_path) for found_path in found)
        elif stat.S_ISREG(mode):
            inputs.append(InputFile(path, path))
        else:
            errors.append(ConfigError(f"{path}: not a regular file or a folder"))
    if len(inputs) > max_files:
        message = (
            f"more than {max_files} input files; only the first {max_files} were read"
        )
        errors.append(ConfigError(message))
        inputs = inputs[:max_files]
    return inputs, errors


class _Walk:
    """A recursive search of one folder (the root) for input files."""

    def __init__(
        self,
        root: str,
        suffixes: tuple[str, ...],
        allow_outside_root: bool,
        errors: list[ConfigError],
    ) -> None:
        self.root = os.path.realpath(root)
        self.suffixes = suffixes
        self.allow_outside_root = allow_outside_root
        self.errors = errors
        self.visited: set[str] = set()

    def files(self, folder: str) -> Iterator[str]:
        real_folder = os.path.realpath(folder)
        if real_folder in self.visited:
            return
        self.visited.add(real_folder)
        try:
            names = sorted(os.listdir(folder))
        except OSError as error:
            self.errors.append(
                ConfigError(f"{folder}: {error.strerror or 'cannot list'}")
            )
            return
        for name in names:
            path = os.path.join(folder, name)
            if name.startswith(".") or name in NOT_MANIFESTS or not self._may_read(path):
                continue
            mode = os.stat(path).st_mode
            if stat.S_ISDIR(mode):
                yield from self.files(path)
            elif stat.S_ISREG(mode) and name.lower().endswith(self.suffixes):
                yield path

    def _may_read(self, path: str) -> bool:
        try:
            os.stat(path)
        except OSError as error:
            self.errors.append(
                ConfigError(f"{path}: {error.strerror or 'cannot read'}")
            )
            return False
        real = os.path.realpath(path)
        root = self.root
        if (
            self.allow_outside_root
            or real == root
            or real.startswith(root.rstrip(os.sep) + os.sep)
        ):
            return True
        message = (
            f"{path}: a symbolic link to {real}, outside {root}: not read "
            "(reading outside the input folder needs an explicit opt-in)"
        )
        self.errors.append(ConfigError(message))
        return False


def outside_folder(path: str, folder: str) -> ConfigError | None:
    """An error when ``path``, found inside ``folder``, resolves (through symbolic
    links) to a file outside it; None when it stays inside. Both sides are resolved."""
    real = os.path.realpath(path)
    root = os.path.realpath(folder)
    if real == root or real.startswith(root.rstrip(os.sep) + os.sep):
        return None
    return ConfigError(
        f"{path}: a symbolic link to {real}, outside {root}: not read "
        "(reading outside the input folder needs --allow-outside-root)"
    )


class NotRegularFile(OSError):
    """A path names a FIFO, a device, a socket or a folder: not read (reading could block)."""


def read_regular_file(path: str, max_bytes: int) -> bytes:
    """At most ``max_bytes + 1`` bytes of the regular file at ``path``.

    Opened without blocking and checked with fstat before any read, so a FIFO or a
    device given as input is refused at once (NotRegularFile) instead of hanging.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    descriptor = os.open(path, flags)
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) \
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else \
                "a socket" if stat.S_ISSOCK(mode) else "not a regular file"
            raise NotRegularFile(f"{kind}, not a regular file; not read")
        chunks = []
        remaining = max_bytes + 1
        while remaining > 0:
            chunk = os.read(descriptor, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def read_input_file(
    file: InputFile, *, max_bytes: int, stdin: TextIO | None = None
) -> tuple[str | None, ConfigError | None]:
    """The file's text, or an error (too big, unreadable, not UTF-8/UTF-16 text).

    Reads at most ``max_bytes + 1`` bytes. A leading byte-order mark selects
    UTF-16; otherwise the text must be UTF-8 (a UTF-8 BOM is dropped).
    """
    display = file.path
    too_big = ConfigError(
        f"{display}: larger than the {max_bytes / MIB:g} MiB limit for one file; not read"
    )
    if file.read_from is None:
        stream = stdin if stdin is not None else sys.stdin
        try:
            text = stream.read(max_bytes + 1)
        except (UnicodeDecodeError, OSError) as error:
            return None, ConfigError(f"{display}: cannot read: {error}")
        return (None, too_big) if len(text) > max_bytes else (text, None)
    try:
        data = read_regular_file(file.read_from, max_bytes)
    except NotRegularFile as error:
        return None, ConfigError(f"{display}: {error}")
    except OSError as error:
        return None, ConfigError(f"{display}: {error.strerror or 'cannot read'}")
    if len(data) > max_bytes:
        return None, too_big
    return _decode(display, data)


def _decode(display: str, data: bytes) -> tuple[str | None, ConfigError | None]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError:
            return None, ConfigError(f"{display}: not valid UTF-16 text")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        span = Span(display, line, column)
        return None, ConfigError(
            f"not UTF-8 text (byte 0x{data[error.start]:02x})", span
        )
