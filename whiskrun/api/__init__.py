"""OpenWhisk's REST API (``/api/v1``) over the invoker: what ``whiskrun serve`` runs."""
