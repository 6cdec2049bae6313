"""The identity service: people and roles, sign-in by mailed link, signed tokens, keys."""
