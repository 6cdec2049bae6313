"""Where the stack keeps its state (inside the repository) and its downloads (outside it)."""

import os
from pathlib import Path

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
