"""The README's event catalogue is generated from the contracts: it must be current."""

from pathlib import Path

from crnt_shared.catalog import END, START, all_contracts, markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_contract_has_a_topic_a_versioned_type_and_a_summary() -> None:
    contracts = all_contracts()
    assert contracts
    types = [contract.event_type() for contract in contracts]
    assert len(types) == len(set(types))
    for contract in contracts:
        assert contract.publisher, contract
        assert contract.event_type().startswith("fr.crnt."), contract
        assert contract.event_type().rsplit(".", 1)[1].startswith("v"), contract
        assert (contract.__doc__ or "").strip(), f"{contract.__name__} needs a docstring"


def test_the_readme_catalogue_is_generated_from_the_contracts() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert section == markdown(), "run: uv run python -m crnt_shared.catalog --write README.md"
