"""The messages kept in memory, oldest first, at most ``max_messages`` (the oldest go first)."""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections.abc import Iterable

from crnt_devstack.mailcatcher.message import CaughtMessage

log = logging.getLogger("crnt.mailcatcher")


class MessageStore:
    def __init__(self, max_messages: int) -> None:
        self.max_messages = max_messages
        self._messages: dict[str, CaughtMessage] = {}
        self._ids = itertools.count(1)

    def __len__(self) -> int:
        return len(self._messages)

    @property
    def messages(self) -> list[CaughtMessage]:
        """Stored messages, oldest first."""
        return list(self._messages.values())

    def add(self, raw: bytes, mail_from: str = "", rcpt_tos: Iterable[str] = ()) -> CaughtMessage:
        """Keep a message; one that cannot be parsed is kept unparsed (its bytes as its body)."""
        message_id = str(next(self._ids))
        try:
            message = CaughtMessage.parse(message_id, raw, mail_from, rcpt_tos)
        except Exception:
            log.exception("could not parse message %s; storing it unparsed", message_id)
            message = CaughtMessage.parse(message_id, b"\r\n" + raw, mail_from, rcpt_tos)
            message = dataclasses.replace(message, raw=raw)
        self._messages[message_id] = message
        while len(self._messages) > self.max_messages:
            del self._messages[next(iter(self._messages))]
        log.info(
            "received ID=%s from=%s to=%s subject=%r size=%d",
            message.id,
            mail_from,
            ",".join(message.envelope_to),
            message.subject,
            len(raw),
        )
        return message

    def get(self, message_id: str) -> CaughtMessage | None:
        """The message of this ID (``latest``: the newest one), if it is kept."""
        if message_id == "latest" and self._messages:
            message_id = next(reversed(self._messages))
        return self._messages.get(message_id)

    def matching(self, query: str) -> list[CaughtMessage]:
        """The messages that match a search (all of them for an empty one), oldest first."""
        return [m for m in self._messages.values() if not query or m.matches(query)]

    def remove(self, message_ids: Iterable[str]) -> None:
        for message_id in message_ids:
            self._messages.pop(message_id, None)

    def clear(self) -> None:
        self._messages.clear()
