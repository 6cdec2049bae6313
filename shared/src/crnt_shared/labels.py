"""The French names of the vocabulary the services share, as people read them in the mails,
the pages and the documents (the values are the contracts' strings)."""

from collections.abc import Mapping

#: The five axes of the work programme (2015 deliberation), as titles.
AXES = {
    "communication": "Communication",
    "ateliers": "Ateliers communs",
    "evenements": "Évènements",
    "formation": "Formation des animateurs",
    "materiel_partage": "Acquisition de matériel partagé",
}
#: An expense's nature in the financing plan, as a title.
NATURES = {"fonctionnement": "Fonctionnement", "investissement": "Investissement"}

# States, as they read inside a sentence ("le programme est en préparation").
PROGRAMME_STATUSES = {
    "draft": "en préparation",
    "submitted": "soumis au comité de pilotage",
    "validated": "validé",
    "amending": "en cours de modification",
}
#: "une action programmée, en cours, terminée, annulée".
ACTION_STATUSES = {
    "proposed": "proposée",
    "planned": "programmée",
    "in_progress": "en cours",
    "done": "terminée",
    "cancelled": "annulée",
}
#: The financing plan's state (``financing_status``).
PLAN_STATUSES = {
    "balanced": "équilibré",
    "over_funded": "subventions supérieures aux dépenses",
    "awaiting_programme": "en attente du programme validé",
}


def capitalised(labels: Mapping[str, str]) -> dict[str, str]:
    """The same names at the start of a line (a badge, a table cell)."""
    return {key: label[:1].upper() + label[1:] for key, label in labels.items()}
