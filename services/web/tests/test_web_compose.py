"""The web in docker-compose.yml: the shared image, its port, its secret, after the services."""

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]


def web() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    service: dict[str, Any] = compose["services"]["web"]
    return service


def test_the_web_runs_its_module_on_8000_from_the_shared_image() -> None:
    service = web()
    assert service["command"] == ["python", "-m", "crnt_web"]
    assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    assert service["environment"]["HTTP_PORT"] == "8000"
    assert service["ports"] == ["${CRNT_BIND_IP:-127.0.0.1}:8000:8000"]
    assert "healthcheck" in service


def test_the_web_needs_its_session_secret_and_healthy_services() -> None:
    service = web()
    assert service["environment"]["WEB_SESSION_SECRET"].startswith("${WEB_SESSION_SECRET:?")
    assert service["environment"]["CRNT_REGISTRY_URL"] == "http://registry:8001"
    for name in ("registry", "programme", "budget", "notifications"):
        assert service["depends_on"][name] == {"condition": "service_healthy"}


def test_the_image_carries_the_web_and_its_assets() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert "--package crnt-web" in dockerfile
    assert "npm ci --omit=dev" in dockerfile
    assert "WEB_ASSETS_DIR=/app/node_modules" in dockerfile
