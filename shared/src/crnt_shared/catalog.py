"""The event catalogue, generated from the contracts (never kept by hand).

python -m crnt_shared.catalog            print it as Markdown
python -m crnt_shared.catalog --write README.md
                                         replace the README's catalogue section with it
"""

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path
from typing import Any

from crnt_shared import contracts
from crnt_shared.events import Event
from crnt_shared.topics import events_topic

START = "<!-- event-catalogue:start -->"
END = "<!-- event-catalogue:end -->"


def all_contracts() -> list[type[Event]]:
    """Every event contract of the system, in the order of their modules and definitions."""
    found: list[type[Event]] = []
    for module_info in sorted(pkgutil.iter_modules(contracts.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{contracts.__name__}.{module_info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Event)
                and value.__module__ == module.__name__
                and isinstance(value.model_fields["type"].default, str)
                and value.model_fields["type"].default != ""
            ):
                found.append(value)
    return found


def _fields(contract: type[Event]) -> str:
    annotation: Any = contract.model_fields["data"].annotation
    fields = getattr(annotation, "model_fields", {})
    return ", ".join(f"`{name}`" for name in fields) or "—"


def summary(contract: type[Event]) -> str:
    """The first paragraph of the contract's docstring, on one line."""
    paragraph = (contract.__doc__ or "").strip().split("\n\n", 1)[0]
    return " ".join(line.strip() for line in paragraph.splitlines())


def markdown() -> str:
    lines = [
        "| type | topic | what it says | data |",
        "| --- | --- | --- | --- |",
    ]
    for contract in all_contracts():
        # As deployed: the topic under the default prefix.
        topic = events_topic(contract.publisher)
        lines.append(
            f"| `{contract.event_type()}` | `{topic}` | {summary(contract)} | {_fields(contract)} |"
        )
    return "\n".join(lines)


def replace_section(text: str, section: str) -> str:
    before, start, rest = text.partition(START)
    _, end, after = rest.partition(END)
    if not start or not end:
        raise ValueError(f"the file has no {START} … {END} section")
    return f"{before}{START}\n{section}\n{END}{after}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crnt_shared.catalog")
    parser.add_argument("--write", type=Path, help="a Markdown file with the catalogue markers")
    args = parser.parse_args(argv)
    if args.write is None:
        print(markdown())
        return 0
    path: Path = args.write
    path.write_text(replace_section(path.read_text(encoding="utf-8"), markdown()), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
