"""Which route answers which form of the agency's centre page (no I/O): the edit form and the
animators' form are not taken for a membership action by ``/lieux/{id}/{action}``."""

import pytest
from crnt_web.api.agency import centres
from starlette.routing import Match


def answering(path: str, method: str = "POST") -> str:
    scope = {"type": "http", "path": path, "method": method, "root_path": ""}
    for route in centres.router.routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return str(getattr(route, "name", ""))
    return ""


#: Each form's path, and the route that must answer it.
ANSWERED_BY = {
    "/agence/lieux/c1/modifier": "edit_centre",
    "/agence/lieux/c1/animateurs": "add_animator",
    "/agence/lieux/c1/animateurs/a1/retirer": "remove_animator",
    "/agence/lieux/c1/suspendre": "change_membership",
    "/agence/lieux/c1/retirer": "change_membership",
}


@pytest.mark.parametrize(("path", "endpoint"), ANSWERED_BY.items())
def test_each_form_of_the_centre_page_reaches_its_own_route(path: str, endpoint: str) -> None:
    assert answering(path) == endpoint
