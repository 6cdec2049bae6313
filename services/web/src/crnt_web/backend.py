"""The one way to the services: their HTTP APIs, with the signed-in person's token.

A refusal comes back as :class:`ApiError`, the API's problem+json read once: the sentence, and
the messages of the fields it concerns (``{"centre.nom": "…"}``) for the form to show beside
them. A service that does not answer raises :class:`ServiceUnavailable`.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

ServiceName = Literal["registry", "programme", "budget", "notifications", "identity"]

SERVICE_LABELS: Mapping[str, str] = {
    "registry": "le registre des lieux",
    "programme": "le programme de travail",
    "budget": "le budget",
    "notifications": "les envois de courriels",
    "identity": "la connexion",
}

#: The validation messages people meet most, in French; any other is shown as the API says it.
_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), french)
    for pattern, french in (
        (r"^field required", "Ce champ est obligatoire."),
        (r"^string should have at least 1 character", "Ce champ est obligatoire."),
        (r"^string should have at most (\d+) characters?", r"Au plus \1 caractères."),
        (r"^string should have at least (\d+) characters?", r"Au moins \1 caractères."),
        (r"not a valid email address", "Cette adresse électronique n’est pas valide."),
        (r"^input should be a valid integer", "Saisissez un nombre entier."),
        (r"^input should be greater than or equal to (\d+)", r"Saisissez au moins \1."),
        (r"^input should be less than or equal to (\d+)", r"Saisissez au plus \1."),
        (r"^input should be a valid date", "Saisissez une date (jj/mm/aaaa)."),
        (r"^list should have at least 1 item", "Ajoutez au moins un élément."),
        (
            r"neither a SIRET",
            "Saisissez un SIRET (14 chiffres) ou un numéro RNA (W suivi de 9 chiffres) ;"
            " 00000000000000 si le SIRET n’est pas connu.",
        ),
    )
)


def french_message(message: str) -> str:
    message = message.removeprefix("Value error, ")
    for pattern, french in _MESSAGES:
        match = pattern.search(message)
        if match:
            return match.expand(french)
    return message


@dataclass
class ApiError(Exception):
    """A service refused the request (4xx/5xx with a problem+json body, usually)."""

    status: int
    detail: str
    fields: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status}: {self.detail}"

    @classmethod
    def of(cls, response: httpx.Response) -> "ApiError":
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        detail = str(body.get("detail") or response.reason_phrase or "Erreur")
        fields: dict[str, str] = {}
        for item in body.get("errors") or []:
            if isinstance(item, dict) and "field" in item:
                name = str(item["field"]).removeprefix("body.")
                fields.setdefault(name, french_message(str(item.get("message", ""))))
        return cls(response.status_code, detail, fields, body)


@dataclass
class ServiceUnavailable(Exception):
    service: str

    def __str__(self) -> str:
        return f"{self.service} does not answer"


class Backend:
    """Calls ``<service>/api/v1<path>``; ``token`` is the person's (or none for open reads)."""

    def __init__(self, urls: Mapping[str, str], client: httpx.AsyncClient) -> None:
        self._urls = {name: url.rstrip("/") for name, url in urls.items()}
        self._client = client

    async def request(
        self,
        method: str,
        service: ServiceName,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        content_type: str | None = None,
        request_id: str | None = None,
        forwarded_for: str | None = None,
    ) -> httpx.Response:
        headers: dict[str, str] = {}
        if forwarded_for:
            # The person's address, not the web's: the services limit anonymous writes per
            # client (uvicorn trusts this header from the addresses in FORWARDED_ALLOW_IPS).
            headers["X-Forwarded-For"] = forwarded_for
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if content_type:
            headers["Content-Type"] = content_type
        if request_id:
            headers["X-Correlation-Id"] = request_id
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            response = await self._client.request(
                method,
                f"{self._urls[service]}/api/v1{path}",
                headers=headers,
                json=json,
                params=clean,
                content=content,
            )
        except httpx.TransportError as error:
            raise ServiceUnavailable(service) from error
        if response.status_code >= 400:
            if response.status_code >= 500 and response.status_code != 501:
                raise ServiceUnavailable(service)
            raise ApiError.of(response)
        return response

    async def get(self, service: ServiceName, path: str, **kwargs: Any) -> Any:
        return (await self.request("GET", service, path, **kwargs)).json()

    async def post(self, service: ServiceName, path: str, **kwargs: Any) -> Any:
        response = await self.request("POST", service, path, **kwargs)
        return response.json() if response.content else None

    async def patch(self, service: ServiceName, path: str, **kwargs: Any) -> Any:
        response = await self.request("PATCH", service, path, **kwargs)
        return response.json() if response.content else None

    async def put(self, service: ServiceName, path: str, **kwargs: Any) -> Any:
        response = await self.request("PUT", service, path, **kwargs)
        return response.json() if response.content else None

    async def delete(self, service: ServiceName, path: str, **kwargs: Any) -> None:
        await self.request("DELETE", service, path, **kwargs)

    async def optional(self, service: ServiceName, path: str, **kwargs: Any) -> Any:
        """A read that may find nothing yet (404): ``None`` then."""
        try:
            return await self.get(service, path, **kwargs)
        except ApiError as error:
            if error.status == 404:
                return None
            raise
