"""The API's Flask application: routes, OpenWhisk's error bodies for every
refusal, and CORS headers on every answer."""

import logging

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from . import (messages, routes_actions, routes_activations, routes_gateway, routes_meta, routes_packages,
               routes_rules, routes_triggers, routes_web)
from .errors import ApiError
from .http import error_response
from .services import ApiServices

log = logging.getLogger(__name__)


def create_app(services: ApiServices) -> Flask:
    app = Flask("whiskrun.api")
    app.extensions["whiskrun"] = services
    # Action code may be 48 MB (base64 makes it larger); the routes check each body's own limit.
    app.config["MAX_CONTENT_LENGTH"] = services.config.limits.code_bytes * 2
    app.url_map.converters["tenant"] = routes_gateway.TenantConverter
    for module in (routes_meta, routes_actions, routes_packages, routes_triggers, routes_rules, routes_activations,
                   routes_web, routes_gateway):
        app.register_blueprint(module.blueprint)

    @app.before_request
    def answer_preflight() -> Response | None:
        if request.method == "OPTIONS" and not request.path.startswith("/api/v1/web/") \
                and (request.path.startswith("/api/v1") or not request.path.startswith("/api/")):
            return Response(b"", 200)
        return None

    @app.after_request
    def allow_any_origin(response: Response) -> Response:
        if request.path.startswith("/api/v1/web/"):
            return response  # routes_web sets them, or the action does (web-custom-options)
        response.headers.setdefault("Access-Control-Allow-Origin", "*")
        if request.method == "OPTIONS":
            response.headers.setdefault("Access-Control-Allow-Methods", "GET, DELETE, POST, PUT, HEAD")
            response.headers.setdefault("Access-Control-Allow-Headers",
                                        "Authorization, Origin, X-Requested-With, Content-Type, Accept, "
                                        "User-Agent")
        return response

    @app.errorhandler(ApiError)
    def refused(error: ApiError) -> Response:
        response = error_response(error.status, error.message)
        if error.status == 401:
            response.headers["WWW-Authenticate"] = 'Basic realm="OpenWhisk secure realm"'
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        if status == 404:
            return error_response(404, messages.RESOURCE_DOES_NOT_EXIST)
        if status == 405:
            allowed = ", ".join(sorted(error.valid_methods or []))  # type: ignore[attr-defined]
            return error_response(405, messages.METHOD_NOT_ALLOWED + allowed)
        if status == 413:
            size = request.content_length or 0
            return error_response(413, messages.entity_too_big("Request", size, app.config["MAX_CONTENT_LENGTH"]))
        return error_response(status, error.description or error.name)

    @app.errorhandler(Exception)
    def crashed(error: Exception) -> Response:
        log.exception("request %s %s failed", request.method, request.path)
        return error_response(500, f"The server failed on this request ({type(error).__name__}); it keeps "
                                   "serving others. The server's log has the details.")

    return app
