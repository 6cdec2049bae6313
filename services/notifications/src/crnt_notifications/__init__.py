"""The notifications service: the right email to the right animators, never lost, never twice."""
