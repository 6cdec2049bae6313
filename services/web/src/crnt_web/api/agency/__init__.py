"""The agency's back-office, one module per subject: the dashboard and the applications, the
centres, the CSV, the EPCIs and people, the budget, the programme, the deliveries. Every call
carries the signed-in agency person's token."""

from fastapi import APIRouter

from crnt_web.api.agency import (
    applications,
    budget,
    centres,
    deliveries,
    imports,
    people,
    programme,
)

router = APIRouter()
for module in (applications, centres, imports, people, budget, programme, deliveries):
    router.include_router(module.router)

__all__ = ["router"]
