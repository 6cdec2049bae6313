"""The agency's budget form and the configuration it describes (``PUT /budgets/{year}``):
the form's values from a configuration, the configuration from the form, and the difference
between two versions of the allocations."""

import json
import re
import unicodedata
from typing import Any

from starlette.datastructures import FormData

from crnt_web.api.common import decimal, integer, text
from crnt_web.formatting import AXES, cents


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Each centre's and EPCI's amount in two versions, the plan's totals, and the change."""

    def change(was: Any, now: Any) -> dict[str, str]:
        was_cents, now_cents = cents(was), cents(now)
        return {
            "before": f"{was_cents / 100:.2f}",
            "after": f"{now_cents / 100:.2f}",
            "change": f"{(now_cents - was_cents) / 100:.2f}",
        }

    def rows(key: str, ident: str) -> list[dict[str, Any]]:
        old = {item[ident]: item for item in before[key]}
        new = {item[ident]: item for item in after[key]}
        out = []
        for item_id in sorted(
            old.keys() | new.keys(), key=lambda i: (new.get(i) or old[i])["name"]
        ):
            was, now = old.get(item_id), new.get(item_id)
            amounts = change(was["amount"] if was else None, now["amount"] if now else None)
            out.append({"name": (now or was or {})["name"], **amounts})
        return out

    old_plan, new_plan = before.get("financing_plan") or {}, after.get("financing_plan") or {}
    plan = [
        {"name": label, **change(old_plan.get(key), new_plan.get(key))}
        for key, label in (
            ("expenses", "Dépenses prévues"),
            ("grants", "Subventions"),
            ("reste_a_charge", "Reste à charge des intercommunalités"),
        )
    ]
    return {
        "from": before["version"],
        "to": after["version"],
        "plan": plan,
        "centres": rows("centres", "centre_id"),
        "epcis": rows("epcis", "siren"),
    }


FUNDER_ROWS = 4
LINE_ROWS = 2
#: The eligible bases a rate can apply to, offered on the form (any other one already in the
#: configuration is offered too, as it is).
BASES: tuple[tuple[dict[str, list[str]] | None, str], ...] = (
    (None, "Toutes les dépenses"),
    ({"axes": list(AXES)}, "Les actions du programme"),
    ({"natures": ["fonctionnement"]}, "Les dépenses de fonctionnement"),
    ({"natures": ["investissement"]}, "Les dépenses d’investissement"),
    *(({"axes": [axis]}, f"Les actions de l’axe « {label} »") for axis, label in AXES.items()),
    ({"lines": ["dotations"]}, "Les dotations des lieux"),
)


def base_key(base: dict[str, Any] | None) -> str:
    """A base as the form's option value: its JSON, criteria without values left out."""
    kept = {k: sorted(v) for k, v in (base or {}).items() if v}
    return json.dumps(kept, sort_keys=True, ensure_ascii=False) if kept else ""


def base_options(funders: list[dict[str, Any]]) -> list[tuple[str, str]]:
    options = [(base_key(base), label) for base, label in BASES]
    known = {value for value, _ in options}
    for funder in funders:
        key = base_key(funder.get("base"))
        if funder.get("rate") and key not in known:
            options.append((key, f"Assiette enregistrée : {key}"))
            known.add(key)
    return options


def budget_values(current: dict[str, Any] | None) -> dict[str, Any]:
    if not current:
        return {"fixed_ratio": "0.5", "weight": "workstations", "epci_key": "population"}
    configuration = current.get("configuration") or {}
    key = configuration.get("centre_key") or {}
    values: dict[str, Any] = {
        "envelope": configuration.get("envelope", ""),
        "fixed_ratio": key.get("fixed_ratio", "0.5"),
        "weight": key.get("weight", "workstations"),
        "epci_key": configuration.get("epci_key", "population"),
    }
    for siren, share in (configuration.get("fixed_shares") or {}).items():
        values[f"fixed_shares.{siren}"] = share
    for index, funder in enumerate(configuration.get("funders") or []):
        for field in ("name", "amount", "rate", "ceiling"):
            values[f"funders.{index}.{field}"] = funder.get(field) or ""
        values[f"funders.{index}.base"] = base_key(funder.get("base"))
    for index, line in enumerate(configuration.get("network_lines") or []):
        for field in ("id", "label", "nature", "estimated", "actual"):
            values[f"network_lines.{index}.{field}"] = line.get(field) or ""
    return values


def new_line_id(label: str, taken: set[str]) -> str:
    """A network line's key from its label: ``Animation du réseau`` → ``animation-du-reseau``."""
    plain = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:50] or "ligne"
    found, counter = slug, 2
    while found in taken or found == "dotations":
        found, counter = f"{slug}-{counter}", counter + 1
    return found


def budget_body(form: FormData) -> dict[str, Any]:
    """The configuration the form describes, as ``PUT /budgets/{year}`` takes it."""
    funders = []
    for index in range(FUNDER_ROWS):
        name = text(form, f"funders.{index}.name")
        if not name:
            continue
        funder: dict[str, Any] = {"name": name}
        for field in ("amount", "rate", "ceiling"):
            if value := decimal(form, f"funders.{index}.{field}"):
                funder[field] = value
        base = text(form, f"funders.{index}.base")
        if base and "rate" in funder:
            funder["base"] = json.loads(base)
        funders.append(funder)
    lines: list[dict[str, Any]] = []
    taken: set[str] = set()
    rows = integer(form, "line_rows")
    for index in range(min(rows, 100) if isinstance(rows, int) else LINE_ROWS):
        label = text(form, f"network_lines.{index}.label")
        if not label:
            continue
        line_id = text(form, f"network_lines.{index}.id") or new_line_id(label, taken)
        taken.add(line_id)
        line: dict[str, Any] = {
            "id": line_id,
            "label": label,
            "nature": text(form, f"network_lines.{index}.nature") or "fonctionnement",
            "estimated": decimal(form, f"network_lines.{index}.estimated"),
        }
        if actual := decimal(form, f"network_lines.{index}.actual"):
            line["actual"] = actual
        lines.append(line)
    epci_key = text(form, "epci_key")
    body: dict[str, Any] = {
        "envelope": decimal(form, "envelope"),
        "centre_key": {
            "fixed_ratio": decimal(form, "fixed_ratio"),
            "weight": text(form, "weight"),
        },
        "epci_key": epci_key,
        "funders": funders,
        "network_lines": lines,
    }
    if epci_key == "fixed_shares":
        body["fixed_shares"] = {
            str(name).removeprefix("fixed_shares."): decimal(form, str(name))
            for name in form
            if str(name).startswith("fixed_shares.") and decimal(form, str(name))
        }
    return body
