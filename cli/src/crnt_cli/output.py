"""What every command shares: its registration (a CliError is one sentence and exit status 1),
``--json``, tables, amounts and progress bars."""

import functools
import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from crnt_shared import money
from crnt_shared.money import cents_from_amount
from rich.console import Console
from rich.progress import Progress, ProgressColumn
from rich.table import Table

from crnt_cli.client import CliError

console = Console()
errors = Console(stderr=True)

Command = TypeVar("Command", bound=Callable[..., None])

#: ``--json``: print the service's answer as JSON instead of tables.
AsJson = Annotated[
    bool, typer.Option("--json", help="Print what the service answered, as JSON, and only that.")
]


def group(help: str) -> typer.Typer:
    """A group of commands (``crnt centres …``)."""
    return typer.Typer(help=help, no_args_is_help=True)


def command(group: typer.Typer, name: str) -> Callable[[Command], Command]:
    """Register a command whose CliError is one sentence on stderr and exit status 1."""

    def register(function: Command) -> Command:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> None:
            try:
                function(*args, **kwargs)
            except CliError as error:
                errors.print(f"[red]Error:[/red] {error}", highlight=False)
                raise typer.Exit(1) from None

        group.command(name)(run)
        return function

    return register


def as_json_if(asked: bool, data: Any) -> bool:
    """With ``--json``, print the service's answer as it came; True when that is all to do."""
    if asked:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    return asked


def progress(*columns: str | ProgressColumn) -> Progress:
    """A progress bar on stderr, drawn only when stderr is a terminal (scripts see nothing).
    What the command prints meanwhile goes above the bar when stdout is that terminal too, and
    to stdout untouched when it is a file or a pipe."""
    return Progress(
        *columns,
        console=errors,
        disable=not errors.is_terminal,
        transient=True,
        redirect_stdout=console.is_terminal,
        redirect_stderr=False,
    )


def table(title: str, columns: list[str], rows: Iterable[list[Any]]) -> None:
    view = Table(title=title, title_justify="left")
    for column in columns:
        view.add_column(column)
    for row in rows:
        view.add_row(*("" if cell is None else str(cell) for cell in row))
    console.print(view)


def euros(amount: str | Decimal | None) -> str:
    """``"1234.5"`` → ``1 234,50 €`` as the mails write it: the shared amount, with the shared
    French typography (narrow no-break spaces between thousands, a no-break space before €)."""
    if amount is None:
        return ""
    return money.euros(cents_from_amount(str(amount)))


def written(what: str, output: Path, content: bytes) -> None:
    """A document written to ``output``: its path, what it is and its size."""
    output.write_bytes(content)
    console.print(f"{output}: {what} ({len(content)} bytes)")
