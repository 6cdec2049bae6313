"""What the national standard of the mediation places (La MedNum's ``standard-mediation-num``,
schema v1.0.x) enumerates and more than one service shows: the registry validates a centre
against it, the web offers it on its forms."""

#: The services a place offers (``services``).
SERVICES = (
    "Aide aux démarches administratives",
    "Maîtrise des outils numériques du quotidien",
    "Insertion professionnelle via le numérique",
    "Utilisation sécurisée du numérique",
    "Parentalité et éducation avec le numérique",
    "Loisirs et créations numériques",
    "Compréhension du monde numérique",
    "Accès internet et matériel informatique",
    "Acquisition de matériel informatique à prix solidaire",
)
