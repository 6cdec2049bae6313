"""The notifications service: the right email to the right animators, never lost, never twice.

Who hears what, by email: the recipients read model (from the registry's events), the French
templates, the deliveries (one per event, recipient and kind; retried with backoff; coalesced
within a window for share changes and new members), and each person's preferences.
"""
