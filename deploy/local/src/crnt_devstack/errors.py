"""The one error type the stack reports to the user."""


class StackError(Exception):
    """A failure the user can act on; the CLI prints the message alone, without a traceback."""
