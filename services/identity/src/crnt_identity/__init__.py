"""The identity service: people and roles, sign-in by mailed link, signed tokens, keys.

Who is who in the network: agency staff and COPIL members, the animators of member centres (from
the registry's events); sign-in by a link mailed to the person (single use, 15 minutes);
short-lived access tokens signed EdDSA that every service verifies locally with the keys
published at /keys and on Kafka.
"""
