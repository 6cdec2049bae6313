"""HTTP to the services, with errors a person can read instead of tracebacks."""

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

DEFAULT_URLS = {
    "registry": "http://127.0.0.1:8001",
    "programme": "http://127.0.0.1:8002",
    "budget": "http://127.0.0.1:8003",
    "notifications": "http://127.0.0.1:8004",
}


class CliError(Exception):
    """Printed as one sentence (``Error: …``); the command exits with status 1."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Service:
    name: str
    url: str
    token: str | None

    @classmethod
    def from_env(cls, name: str) -> "Service":
        url = os.environ.get(f"CRNT_{name.upper()}_URL", DEFAULT_URLS[name]).rstrip("/")
        return cls(name, url, os.environ.get("CRNT_AGENCY_TOKEN"))

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        content: bytes | Iterable[bytes] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> httpx.Response:
        all_headers = dict(headers or {})
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = httpx.request(
                method,
                f"{self.url}/api/v1{path}",
                json=json,
                params=clean,
                content=content,
                headers=all_headers,
                timeout=timeout,
            )
        except httpx.TransportError as error:
            raise CliError(
                f"The {self.name} service does not answer at {self.url} ({error}): start the "
                f"system with `make run`, or set CRNT_{self.name.upper()}_URL."
            ) from None
        if response.status_code >= 400:
            raise CliError(_problem(self.name, response), response.status_code)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()


def _problem(service: str, response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = {}
    detail = body.get("detail") if isinstance(body, dict) else None
    hint = " Set CRNT_AGENCY_TOKEN to the agency's token." if response.status_code == 401 else ""
    return f"{service} answered {response.status_code}: {detail or response.text[:300]}{hint}"
