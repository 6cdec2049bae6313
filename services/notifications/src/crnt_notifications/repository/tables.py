"""What every room of the repository stands on: the unit of work's connection."""

from crnt_shared.db import Connection


class Tables:
    """Reads and writes the notifications' tables over one connection."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
