"""``crnt``: the agency's command line. It talks to the services' HTTP APIs only.

URLs come from CRNT_REGISTRY_URL, CRNT_PROGRAMME_URL, CRNT_BUDGET_URL and
CRNT_NOTIFICATIONS_URL (defaults: 127.0.0.1:8001-8004), the token from CRNT_AGENCY_TOKEN.
Every list and show takes ``--json``: what the service answered, and nothing else on stdout.
"""

import os
from importlib import metadata
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn

from crnt_cli import budget, programme, registry
from crnt_cli.deliveries import deliveries
from crnt_cli.demo import Steps, seed
from crnt_cli.output import command, console, group, progress

# rich_markup_mode=None: a usage error is click's plain "Error: …" sentence, not a framed panel.
app = typer.Typer(
    help=__doc__, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None
)
demo = group("The demo territory (Pays de Saint-Omer).")
for name, commands in (
    ("centres", registry.centres),
    ("applications", registry.applications),
    ("budget", budget.budget),
    ("programme", programme.programme),
    ("deliveries", deliveries),
    ("demo", demo),
):
    app.add_typer(commands, name=name)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"crnt {metadata.version('crnt-cli')}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    pass


@command(demo, "seed")
def demo_seed() -> None:
    """Seed the Pays de Saint-Omer: EPCIs, real places, fictitious animators, a 2026 budget and
    programme. Running it twice duplicates nothing."""
    copil = os.environ.get("CRNT_COPIL_TOKEN")
    with progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()
    ) as bar:
        steps = Steps(bar, bar.add_task("seeding the demo territory", total=None))
        services = registry.registry(), budget.service(), programme.service()
        seed(console, *services, copil, steps)
    console.print("[green]demo territory ready[/green]")


def main() -> None:
    app()
