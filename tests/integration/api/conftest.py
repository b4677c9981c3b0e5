"""Fixtures of the API tests: a real `whiskrun serve` subprocess per module
(``api_server``, its client ``api``), or several (``start_server``), each
stopped with SIGTERM and checked to leave no container behind."""

from .server_support import api, api_docker, api_server, sample_zip, start_server  # noqa: F401 - fixtures
