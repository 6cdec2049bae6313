"""The budget's form read into the body `PUT /budgets/{year}` takes, and the plan's words."""

from typing import Any

from crnt_web.api.agency.budget_form import base_key, base_options, budget_body, budget_values
from crnt_web.formatting import missing, ratio_percent, share_of
from crnt_web.pages import Pages
from starlette.datastructures import FormData

#: The envelope and keys of the configurations below, and their first funder.
KEYS = {
    "envelope": "30000.00",
    "centre_key": {"fixed_ratio": "0.5", "weight": "workstations"},
    "epci_key": "population",
}
REGION = {"name": "Région", "amount": "15000.00"}


def test_the_form_becomes_the_configuration_without_any_epci_contribution() -> None:
    """Amounts typed the French way (``30 000,00``) go as decimal strings; a rate keeps its
    eligible base, a fixed amount none; a network line gets a key from its label; the EPCIs'
    part is never sent (the service computes the reste à charge)."""
    form = FormData(
        [
            ("year", "2026"),
            ("envelope", "30\u202f000,00"),
            ("fixed_ratio", "0,5"),
            ("weight", "workstations"),
            ("epci_key", "population"),
            ("fixed_shares.200069037", "0.8"),  # ignored: not the fixed-shares key
            ("funders.0.name", "Région"),
            ("funders.0.amount", "15 000,00"),
            ("funders.0.base", '{"lines": ["dotations"]}'),  # ignored: no rate
            ("funders.1.name", "FEDER"),
            ("funders.1.rate", "0,5"),
            ("funders.1.ceiling", "10000"),
            ("funders.1.base", '{"natures": ["investissement"]}'),
            ("funders.2.name", ""),
            ("line_rows", "2"),
            ("network_lines.0.id", ""),
            ("network_lines.0.label", "Animation du réseau"),
            ("network_lines.0.nature", "fonctionnement"),
            ("network_lines.0.estimated", "3000,00"),
            ("network_lines.0.actual", ""),
            ("network_lines.1.label", ""),
        ]
    )
    assert budget_body(form) == {
        **KEYS,
        "funders": [
            REGION,
            {
                "name": "FEDER",
                "rate": "0.5",
                "ceiling": "10000",
                "base": {"natures": ["investissement"]},
            },
        ],
        "network_lines": [
            {
                "id": "animation-du-reseau",
                "label": "Animation du réseau",
                "nature": "fonctionnement",
                "estimated": "3000.00",
            }
        ],
    }


def test_fixed_shares_go_with_their_key() -> None:
    form = FormData(
        [
            ("envelope", "100"),
            ("fixed_ratio", "1"),
            ("weight", "none"),
            ("epci_key", "fixed_shares"),
            ("fixed_shares.200069037", "0,75"),
            ("fixed_shares.246201016", "0.25"),
            ("fixed_shares.200000172", ""),
        ]
    )
    body = budget_body(form)
    assert body["fixed_shares"] == {"200069037": "0.75", "246201016": "0.25"}
    assert "epci_contribution" not in body


def test_the_configuration_fills_the_form_again() -> None:
    """What the service keeps comes back in the fields, the base as the option it was."""
    configuration: dict[str, Any] = {
        **KEYS,
        "funders": [
            REGION,
            {
                "name": "FEDER",
                "rate": "0.5",
                "ceiling": "10000.00",
                "base": {"natures": [], "axes": ["formation", "ateliers"], "lines": []},
            },
        ],
        "network_lines": [
            {"id": "anim", "label": "Animation", "nature": "fonctionnement", "estimated": "1.00"}
        ],
    }
    values = budget_values({"configuration": configuration})
    assert values["funders.1.base"] == '{"axes": ["ateliers", "formation"]}'
    assert values["funders.0.base"] == ""
    assert values["network_lines.0.id"] == "anim"
    options = dict(base_options(configuration["funders"]))
    assert values["funders.1.base"] in options  # a base the presets lack is offered as it is
    assert base_key({"lines": ["dotations"]}) in options


def test_what_a_version_waits_for_is_said_in_french() -> None:
    assert missing("the population of CCPL (SIREN 246201016) is unknown") == (
        "la population de CCPL (SIREN 246201016), inconnue ;"
        " renseignez-la dans la fiche de l’intercommunalité"
    )
    assert missing("no EPCI has a member centre in 2026: nobody owes the reste à charge") == (
        "un lieu membre en 2026 : aucune intercommunalité ne porte le reste à charge"
    )
    assert missing("something new") == "something new"


def test_a_ratio_reads_as_a_percentage() -> None:
    assert ratio_percent("0.3750") == "37,5\u202f%"
    assert ratio_percent("1") == "100,0\u202f%"


def test_a_share_is_computed_from_the_amounts() -> None:
    """3,003.95 of 8,000.00 is 37.549… %: 37,5 %, where the API's ratio 0.3755 would say 37,6."""
    assert share_of("3003.95", "8000.00") == "37,5\u202f%"
    assert share_of("637.50", "1200.00") == "53,1\u202f%"
    assert share_of("1", "0") == "—"


def _render_budget(budget: dict[str, Any]) -> str:
    template = Pages(mail_catcher_url=None).environment.get_template("_budget.html")
    return template.render(budget=budget, csrf="", errors={}, values={})


def test_a_version_that_waits_says_what_is_missing_and_publishes_nothing() -> None:
    """`version: null` and `waiting.missing` (an unknown population): no split is shown."""
    page = _render_budget(
        {
            "year": 2027,
            "version": None,
            "closed_at": None,
            "configuration": {"epci_key": "population"},
            "waiting": {"missing": ["the population of CCPL (SIREN 246201016) is unknown"]},
        }
    )
    assert "Le budget 2027 attend pour être calculé" in page
    assert "la population de CCPL (SIREN 246201016), inconnue" in page
    assert "Quote-part" not in page
    assert "annexe" not in page


def test_an_over_funded_plan_says_the_epcis_owe_nothing() -> None:
    plan = {
        "status": "over_funded",
        "expense_lines": [],
        "by_axis": {},
        "by_nature": {},
        "expenses": "1000.00",
        "actual_expenses": "0.00",
        "funders": [{"name": "Région", "amount": "1500.00", "rate": None, "ceiling": None}],
        "grants": "1500.00",
        "reste_a_charge": "0.00",
        "surplus": "500.00",
        "resources": "1500.00",
        "investment_rule": {"investment": "0.00", "holds": None},
    }
    page = _render_budget(
        {
            "year": 2026,
            "version": 3,
            "computed_at": "2026-12-01T10:00:00+00:00",
            "member_count": 0,
            "closed_at": "2026-12-01T11:00:00+00:00",
            "waiting": None,
            "configuration": {"epci_key": "member_centres"},
            "financing_plan": plan,
            "epcis": [],
            "centres": [],
            "allocated": "0.00",
        }
    )
    assert "Subventions supérieures aux dépenses" in page
    assert "dépassent les dépenses de 500,00\u00a0€" in page
    assert "la règle ne s’applique pas" in page
    assert "L’exercice 2026 est clos" in page
    assert 'href="/budget/2026/annexe.pdf?version=3"' in page
