"""The closed sets the services accept, as choices the shell can complete: the services' own
vocabularies (:mod:`crnt_shared.vocabularies`) and the formats of their documents."""

from enum import StrEnum
from typing import Any

import typer


class AnnexFormat(StrEnum):
    PDF = "pdf"
    ODS = "ods"
    XLSX = "xlsx"


class ReportFormat(StrEnum):
    PDF = "pdf"
    ODS = "ods"


def choice(values: type[StrEnum], help: str, metavar: str | None = None) -> Any:
    """An option among ``values`` (``Annotated[str, choice(Enum, help)]``): the values in the
    help, completed by the shell (``crnt --install-completion``), and a one-sentence refusal
    that lists them. A long list goes into the help, after a short ``metavar``."""
    names = [value.value for value in values]
    if metavar is not None:
        help = f"{help}: {', '.join(names)}"

    def parse(value: str) -> str:
        if value in names:
            return value
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(names)}.")

    def complete(incomplete: str) -> list[str]:
        return [name for name in names if name.startswith(incomplete)]

    return typer.Option(
        parser=parse, autocompletion=complete, metavar=metavar or "|".join(names), help=help
    )
