"""A web action: an HTTP endpoint that needs no OpenWhisk credentials.

    wsk action update greet web/greet.py --web true
    wsk action get greet --url     # .../api/v1/web/guest/default/greet
    curl "http://localhost:3233/api/v1/web/guest/default/greet.http/fr?name=Ada"

With --web true the platform passes the query string (name=Ada) as ordinary
parameters, adds __ow_method (lower case), __ow_path (the URL after
`greet.http`, here "/fr") and __ow_headers, and turns the returned
statusCode, headers and body into the HTTP response.
"""

GREETINGS = {"en": "Hello", "fr": "Bonjour", "de": "Hallo", "es": "Hola"}


def main(args):
    # Invoked as a plain action (wsk action invoke) there is no __ow_method;
    # answer as for a GET so that both ways give the same result.
    method = args.get("__ow_method", "get")
    if method != "get":
        return _reply(405, {"error": f"{method.upper()} is not supported; use GET."}, Allow="GET")
    language = args.get("__ow_path", "").strip("/") or "en"
    if language not in GREETINGS:
        known = ", ".join(sorted(GREETINGS))
        return _reply(404, {"error": f"No greeting for '{language}'; try one of {known}."})
    name = args.get("name", "stranger")
    return _reply(200, {"greeting": f"{GREETINGS[language]} {name}!", "language": language})


def _reply(status, body, **headers):
    # An object body is sent as JSON in any case; the header makes that explicit.
    return {"statusCode": status, "headers": {"Content-Type": "application/json", **headers}, "body": body}
