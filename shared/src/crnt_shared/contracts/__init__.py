"""The event contracts of each publishing service, one module per service."""
