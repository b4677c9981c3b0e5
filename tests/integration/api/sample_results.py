"""What the wsk-samples return when deploy.sh (or deploy.js) invokes them."""

import hashlib
from typing import Any

WORDS = "the quick brown fox jumps over the lazy dog"


def heavy_digest(number: int) -> str:
    """heavy_init.py's table entry for ``number``."""
    data = str(number).encode()
    for _ in range(4):
        data = hashlib.sha256(data).digest()
    return data.hex()


#: action -> the result of its invocation in deploy.sh (heavy's also has init_seconds)
RESULTS: dict[str, Any] = {
    "hello": {"greeting": "Hello World!"},
    "hello-js": {"greeting": "Hello World!"},
    "hello-sh": {"greeting": "Hello from a native action!"},
    "heavy": {"key": 7, "digest": heavy_digest(7), "entries": 600_000},
    "python-zip": {"greeting": "Hello World!", "size": "1.5 MB", "words": "1.5 million", "humanize": "4.17.0"},
    "words": {"words": sorted(WORDS.split()), "count": 9},
    "greet": {"statusCode": 200, "headers": {"Content-Type": "application/json"},
              "body": {"greeting": "Hello World!", "language": "en"}},
}

#: The trigger/rule sample of deploy.sh (and deploy.js): hello-trigger, with the default
#: parameter name=Trigger, linked to the hello action by hello-rule, fired with name=Fired.
TRIGGER, RULE, RULE_ACTION = "hello-trigger", "hello-rule", "hello"
TRIGGER_PARAMETERS = [{"key": "name", "value": "Trigger"}]
FIRE_PAYLOAD = {"name": "Fired"}
#: What the rule's activation of hello returns: the fire's payload wins over the trigger's parameter.
FIRED_RESULT = {"greeting": "Hello Fired!"}

#: The alarm sample of deploy.sh (and deploy.js): the trigger every-3s, fed by the alarms
#: package's alarm feed on a seconds cron (6 fields, seconds first), with trigger_payload
#: name=Alarm as each fire's payload, linked to the hello action by every-3s-rule.
ALARM_TRIGGER, ALARM_RULE, ALARM_FEED = "every-3s", "every-3s-rule", "/whisk.system/alarms/alarm"
ALARM_CRON = "*/3 * * * * *"
ALARM_PAYLOAD = {"name": "Alarm"}
#: What the rule's activation of hello returns on each fire of the alarm.
ALARM_RESULT = {"greeting": "Hello Alarm!"}

#: The API route sample of deploy.sh (and deploy.js): the web action greet at GET /hello/greet,
#: through the API gateway, with the JSON response type; its managed URL is called with name=Ada.
API_BASE, API_PATH, API_VERB, API_ACTION, API_RESPONSE_TYPE = "/hello", "/greet", "GET", "greet", "json"
ROUTE_QUERY = "?name=Ada"
#: What the managed URL answers: a .json web action answers with the action's whole result.
ROUTE_RESULT = {"statusCode": 200, "headers": {"Content-Type": "application/json"},
                "body": {"greeting": "Hello Ada!", "language": "en"}}
