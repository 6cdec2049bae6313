"""The budget service as it was before issue 15, loaded from git for the bench's baseline.

The recalculation of that time brought one object per member into Python at every step and
stored every centre's share in every version (``centre_shares``). Rather than keep a copy of
it in the tree, :func:`load` extracts the budget's and the shared package's sources at
:data:`REVISION` (the parent of the commit "budget: a version stores what changed (issue 15)")
into a temporary folder, under the names ``crnt_budget_before`` and ``crnt_shared_before``, and
imports them beside today's: ``make bench`` measures both in the same run, each on the schema
and with the unit of work of its own time.
"""

import atexit
import functools
import importlib
import io
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

REVISION = "743a80cf1221d25d19cc43121a32cde4346fe5f5"
PACKAGES = {
    "services/budget/src/crnt_budget": "crnt_budget_before",
    "shared/src/crnt_shared": "crnt_shared_before",
}
_NAMES = re.compile(r"\b(crnt_budget|crnt_shared)\b")


@dataclass(frozen=True)
class Previous:
    """The modules of that time the bench drives."""

    db: ModuleType  # create_pool, migrate, UnitOfWork, MigrationSource, SHARED_MIGRATIONS
    handlers: ModuleType  # configure_budget, ConfigureBudget, recalculate_dirty_year
    repository: ModuleType  # Repository: add_version and centre_shares of every share
    migrations: Any  # the budget's migrations of that time (0001 to 0003), a MigrationSource


def _sources(repository: Path) -> bytes:
    try:
        return subprocess.run(  # noqa: S603 - a fixed git command line
            ["git", "archive", "--format=tar", REVISION, *PACKAGES],  # noqa: S607 - git on PATH
            cwd=repository,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        raise RuntimeError(
            f"the bench's baseline is the budget at {REVISION[:7]}: it needs a git checkout"
            f" with that commit ({error})"
        ) from error


@functools.cache
def load() -> Previous:
    root = Path(__file__).resolve().parent.parent
    folder = Path(tempfile.mkdtemp(prefix="crnt-budget-before-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(_sources(root))) as archive:
        archive.extractall(folder, filter="data")
    for source, name in PACKAGES.items():
        package = (folder / source).rename(folder / name)
        for module in package.rglob("*.py"):
            text = module.read_text(encoding="utf-8")
            module.write_text(_NAMES.sub(r"\1_before", text), encoding="utf-8")
    sys.path.insert(0, str(folder))
    db = importlib.import_module("crnt_shared_before.db")
    return Previous(
        db=db,
        handlers=importlib.import_module("crnt_budget_before.handlers"),
        repository=importlib.import_module("crnt_budget_before.repository"),
        migrations=db.MigrationSource("budget", folder / "crnt_budget_before" / "migrations"),
    )
