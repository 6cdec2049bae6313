"""Where the stack keeps its state (inside the repository) and its downloads (outside it)."""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Self, overload

from crnt_devstack.errors import StackError

_WORKSPACE_MARKER = "[tool.uv.workspace]"


def _is_repo_root(directory: Path) -> bool:
    pyproject = directory / "pyproject.toml"
    return pyproject.is_file() and _WORKSPACE_MARKER in pyproject.read_text(encoding="utf-8")


def repo_root() -> Path:
    """The directory holding the workspace's root pyproject.toml.

    Searched upwards from this module (an editable install lives in the repository, a regular
    one in the repository's .venv) and then from the current directory.
    """
    for start in (Path(__file__).resolve().parent, Path.cwd().resolve()):
        for directory in (start, *start.parents):
            if _is_repo_root(directory):
                return directory
    raise StackError(
        "cannot find the crnt repository (a pyproject.toml with [tool.uv.workspace]): "
        "run crnt-stack from inside the repository or set CRNT_STATE_DIR."
    )


def state_dir() -> Path:
    """Pid files, logs and data of the running stack: ``<repo>/.local`` or ``$CRNT_STATE_DIR``."""
    override = os.environ.get("CRNT_STATE_DIR")
    if override:
        return Path(override).resolve()
    return repo_root() / ".local"


def cache_dir() -> Path:
    """Downloads reused between runs and work trees: ``${XDG_CACHE_HOME:-~/.cache}/crnt``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "crnt"


@dataclass(frozen=True)
class StateFiles:
    """A component's files, in a directory of its own under the state directory (``root``);
    a subclass names them with :class:`Under`."""

    root: Path

    @classmethod
    def of(cls, name: str, state: Path | None = None) -> Self:
        """The files of the component ``name`` under ``state`` (by default the stack's)."""
        return cls((state or state_dir()) / name)


class Under:
    """A component's file at ``parts`` below its ``root``: an attribute of a
    :class:`StateFiles` subclass, read like a property."""

    def __init__(self, *parts: str) -> None:
        self._parts = parts

    @overload
    def __get__(self, files: None, owner: type) -> "Under": ...

    @overload
    def __get__(self, files: StateFiles, owner: type) -> Path: ...

    def __get__(self, files: StateFiles | None, owner: type) -> "Path | Under":
        return self if files is None else files.root.joinpath(*self._parts)
