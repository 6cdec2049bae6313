"""make run: the web starts first, its address is printed first, and the tour says whom to
sign in as and where the link arrives."""

import pytest
from crnt_devstack import services, stack
from crnt_devstack.ports import Ports


def test_the_web_comes_first_and_without_a_database() -> None:
    present = services.installed()
    assert present[0] == services.WEB
    assert services.WEB.entry_url == f"http://127.0.0.1:{services.WEB.port}/"
    assert services.WEB not in services.SERVICES  # no database is created for it


def test_the_tour_prints_the_web_first_and_whom_to_sign_in_as(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CRNT_AGENCY_EMAILS", "CRNT_COPIL_EMAILS", "SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    stack.print_tour(Ports(), services.installed())
    printed = capsys.readouterr().out
    urls = [line.split()[-1] for line in printed.splitlines() if "http://" in line][:2]
    assert urls[0] == services.WEB.entry_url
    assert "/connexion) as agence@example.org (agency) or copil@example.org" in printed
    assert "the link arrives in the mail catcher (http://127.0.0.1:8025/)" in printed
