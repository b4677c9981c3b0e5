"""The OpenWhisk action proxy: serves ``POST /init`` and ``POST /run`` on port 8080.

One language-agnostic Flask app; the language lives in a launcher process
(``runtimes/``) that the proxy talks to over pipes, or, for native actions,
in ``/action/exec`` started once per activation.
"""
