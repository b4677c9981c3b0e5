"""The HTTP requests Apache OpenWhisk's `wsk` CLI sends, replayed for a command line.

`wsk` cannot be installed on the development machines, so the tests send
what it would send, request for request, as read from its sources
(apache/openwhisk-cli 23f3cf73 `commands/*.go`, apache/openwhisk-client-go
fa7fa7e4 `whisk/*.go`):

* URLs: ``<apihost>/api/v1/namespaces/_/...`` (``_`` unless NAMESPACE is set
  in .wskprops); list options through go-querystring and ``url.Values.Encode``,
  so keys come sorted and ``limit``/``skip`` are always there
  (``?limit=30&skip=0``), while ``name``, ``since``, ``docs`` only when set.
* Bodies: Go's ``json.Encoder`` (compact, no HTML escaping, a final newline)
  of the client's structs, fields in struct order and empty ones left out;
  ``-p`` values that parse as JSON are sent as that JSON, others as strings;
  an invoke's parameters are a Go map, so its keys come sorted.
* ``action update`` first GETs the action with ``?code=false`` (a 404 is
  fine: update also creates), then PUTs ``?overwrite=true``; ``--web true``
  adds ``web-export: true, raw-http: false, final: true`` after the existing
  action's annotations (when the command gives no ``-a``).
* ``action invoke`` POSTs ``?blocking=B&result=R`` (``-r`` means both true).
* ``activation get/logs/result --last`` lists ``?limit=1&skip=0`` first.
* ``wsk property get`` reads ``GET /api/v1`` without credentials.
* ``trigger update`` GETs the trigger first; a 404 makes it ``trigger create``
  (``PUT ?overwrite=false``), an existing trigger without a ``feed`` annotation is
  PUT ``?overwrite=true``; either body is ``{"name", "parameters"}`` (whisk.Trigger).
  ``trigger fire`` POSTs the ``-p`` map (``{}`` without any).
* ``rule update`` PUTs ``?overwrite=true`` ``{"name","status":"","trigger","action"}`` with the
  trigger and action qualified client-side (``/_/name``); ``rule enable/disable``
  POST ``{"status":...,"trigger":null,"action":null}`` (a whisk.Rule with only its
  status); ``rule list``, ``wsk list`` and ``namespace get`` GET each listed rule
  for its status; ``rule delete`` is one DELETE.
* Feeds (commands/trigger.go): ``trigger create --feed F`` PUTs the trigger
  ``?overwrite=false`` with only the ``feed`` annotation (``-p`` goes to the feed, not onto
  the trigger), then invokes F blocking (``?blocking=true&result=false``) with one Go map
  of the ``-p`` values and ``lifecycleEvent: CREATE``, ``triggerName: /_/t``, ``authKey``;
  if that invoke fails, wsk deletes the trigger again (``trigger delete``, which still
  carries the create's ``-p`` values into the feed's DELETE). ``trigger get`` and
  ``trigger delete`` GET the trigger and, when it has a ``feed`` annotation, invoke the
  feed with READ (printed instead of the trigger) or DELETE (before the DELETE).
* API gateway (commands/api.go, whisk/api.go): ``api create/list/get/delete`` call the web
  actions ``/api/v1/web/whisk.system/apimgmt/{createApi,getApi,deleteApi}.http`` with
  Basic auth and whisk.ApiOptions as query (go-querystring: sorted, empty ones left out),
  ``accesstoken=DUMMY+TOKEN`` (no APIGW_ACCESS_TOKEN in .wskprops) and ``spaceguid=<the
  key's uuid>``; ``api create`` first GETs the action (``?code=false``) to check
  web-export and to read require-whisk-auth as the secure key.

Only the flags the samples use are understood; anything else is refused, so
a new command in deploy.sh's header shows up as a test failure here.
"""

import base64
import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import requests

from .server_support import SAMPLES, ApiClient

USER_AGENT = "OpenWhisk-CLI/1.0 (not-set) linux amd64"  # UserAgent + "/1.0 (" + CLIVersion + ") " + GOOS + " " + GOARCH
DEFAULT_KINDS = {".py": "python:default", ".js": "nodejs:default", ".swift": "swift:default",
                 ".php": "php:default", ".rb": "ruby:default", ".go": "go:default", ".rs": "rust:default"}
WEB_KEYS = ("web-export", "raw-http", "final")


class UnknownCommand(Exception):
    """A wsk command (or flag) this replay does not know how to send."""


@dataclass(frozen=True)
class Exchange:
    method: str
    target: str  # path and query string, exactly as sent
    body: bytes | None
    response: requests.Response

    @property
    def status(self) -> int:
        return self.response.status_code

    def json(self) -> Any:
        return self.response.json()


def go_json(value: Any) -> bytes:
    """What Go's json.Encoder (SetEscapeHTML(false)) writes."""
    return (json.dumps(value, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


def cli_value(text: str) -> Any:
    """``-p key VALUE``: the value as JSON when it parses as JSON, else the string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def query(**options: Any) -> str:
    """go-querystring + url.Values.Encode: keys sorted, None (omitempty) left out."""
    pairs = sorted((k, v) for k, v in options.items() if v is not None)
    return "&".join(f"{k}={quote_plus(str(v).lower() if isinstance(v, bool) else str(v))}" for k, v in pairs)


def qualified(name: str, namespace: str = "_") -> str:
    """getQualifiedName (commands/qualified_name.go): ``/ns/name`` kept, ``ns/pkg/name``
    gets its leading slash, anything else goes under the NAMESPACE property (``_``)."""
    if len(name.split("/")) == 3 and not name.startswith("/"):
        name = "/" + name
    return name if name.startswith("/") else f"/{namespace}/{name}"


def go_map(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """getJSONFromStrings(params, false) (commands/util.go): each ``{"key": value}`` decoded
    into one Go map, a later key over an earlier one; json.Encoder writes a map's keys sorted."""
    merged: dict[str, Any] = {}
    for key, value in pairs:
        merged[key] = value
    return dict(sorted(merged.items()))


def split_name(name: str, namespace: str = "_") -> tuple[str, str, str, str]:
    """NewQualifiedName (commands/qualified_name.go): (namespace, entity name ``[pkg/]entity``,
    package, entity); a name without a namespace gets the NAMESPACE property (``_``)."""
    if len(name.split("/")) == 3 and not name.startswith("/"):
        name = "/" + name  # addLeadSlash
    parts = name.split("/")
    if name.startswith("/"):
        if not 3 <= len(parts) <= 4 or not all(parts[1:]):
            raise UnknownCommand(f"not a qualified name: {name}")
        return parts[1], "/".join(parts[2:]), parts[2] if len(parts) == 4 else "", parts[-1]
    return namespace, name, parts[0] if len(parts) == 2 else "", parts[-1]


def header_commands(deploy_sh: Path = SAMPLES / "deploy.sh") -> list[str]:
    """The `wsk` commands listed in deploy.sh's header comment, in order."""
    commands = []
    for line in deploy_sh.read_text().splitlines()[1:]:
        if not line.startswith("#"):
            break
        text = line.lstrip("#").strip()
        if text.startswith("wsk "):
            commands.append(text)
    return commands


class Wsk:
    """``wsk("wsk action invoke hello -r -p name World")`` sends what `wsk` sends and
    returns the exchanges; ``printed`` holds the lines wsk prints for ``get --url``,
    ``trigger fire``, ``trigger create/delete``, ``rule delete`` and ``api create/delete``,
    ``errors`` the messages of the commands wsk would end with an error."""

    def __init__(self, client: ApiClient, cwd: Path = SAMPLES) -> None:
        self.client = client
        self.cwd = cwd
        self.exchanges: list[Exchange] = []
        self.printed: list[str] = []
        self.errors: list[str] = []  # what wsk would print as `error: ...` before exiting non-zero

    # Sending.

    def send(self, method: str, target: str, body: Any = None, *, auth: bool = True) -> Exchange:
        data = go_json(body) if body is not None else None
        headers = {"User-Agent": USER_AGENT} if auth else {}
        if data is not None:
            headers["Content-Type"] = "application/json"
        response = self.client.request(method, target, data=data, headers=headers, auth=auth)
        exchange = Exchange(method, target, data, response)
        self.exchanges.append(exchange)
        return exchange

    def __call__(self, command: str) -> list[Exchange]:
        argv = shlex.split(command)
        if not argv or argv[0] != "wsk":
            raise UnknownCommand(command)
        first = len(self.exchanges)
        words = argv[1:]
        handlers = {
            ("action", "update"): self._action_update, ("action", "create"): self._action_create,
            ("action", "invoke"): self._action_invoke, ("action", "list"): self._action_list,
            ("action", "get"): self._action_get, ("action", "delete"): self._action_delete,
            ("activation", "list"): self._activation_list, ("activation", "get"): self._activation_get,
            ("activation", "logs"): self._activation_get, ("activation", "result"): self._activation_get,
            ("namespace", "list"): self._namespace_list, ("namespace", "get"): self._namespace_get,
            ("property", "get"): self._property_get,
            ("trigger", "update"): self._trigger_update, ("trigger", "fire"): self._trigger_fire,
            ("trigger", "list"): self._trigger_list, ("trigger", "create"): self._trigger_create,
            ("trigger", "get"): self._trigger_get, ("trigger", "delete"): self._trigger_delete,
            ("rule", "update"): self._rule_update, ("rule", "enable"): self._rule_set_state,
            ("rule", "disable"): self._rule_set_state, ("rule", "get"): self._rule_get,
            ("rule", "list"): self._rule_list, ("rule", "delete"): self._rule_delete,
            ("api", "create"): self._api_create, ("api", "list"): self._api_list,
            ("api", "get"): self._api_get, ("api", "delete"): self._api_delete,
        }
        if words == ["list"]:
            self._namespace_get("get", [])
        elif tuple(words[:2]) in handlers:
            handlers[tuple(words[:2])](words[1], words[2:])  # type: ignore[index]
        else:
            raise UnknownCommand(command)
        return self.exchanges[first:]

    @property
    def auth_key(self) -> str:
        """Client.Config.AuthToken: the AUTH property, ``uuid:key``."""
        return ":".join(self.client.session.auth)  # type: ignore[arg-type]

    # Flags.

    @staticmethod
    def _parse(args: list[str], *, values: set[str], flags: set[str], pairs: set[str],
               aliases: dict[str, str]) -> tuple[list[str], dict[str, Any]]:
        positional: list[str] = []
        options: dict[str, Any] = {}
        i = 0
        while i < len(args):
            arg = aliases.get(args[i], args[i])
            if arg in flags:
                options[arg] = True
                i += 1
            elif arg in values:
                options[arg] = args[i + 1]
                i += 2
            elif arg in pairs:
                options.setdefault(arg, []).append((args[i + 1], args[i + 2]))
                i += 3
            elif arg.startswith("-"):
                raise UnknownCommand(f"flag {arg}")
            else:
                positional.append(arg)
                i += 1
        return positional, options

    # Actions.

    def _action_create(self, verb: str, args: list[str]) -> None:
        self._put_action(args, update=False)

    def _action_update(self, verb: str, args: list[str]) -> None:
        self._put_action(args, update=True)

    def _put_action(self, args: list[str], *, update: bool) -> None:
        positional, options = self._parse(
            args, values={"--kind", "--memory", "--web", "--main", "--timeout"},
            flags={"--native", "--sequence"}, pairs={"--param", "--annotation"},
            aliases={"-m": "--memory", "-t": "--timeout", "-p": "--param", "-a": "--annotation"})
        name = positional[0]
        action: dict[str, Any] = {"namespace": "_", "name": name}
        if options.get("--sequence"):
            action["exec"] = {"kind": "sequence",
                              "components": [f"/_/{c}" if not c.startswith("/") else c
                                             for c in positional[1].split(",")]}
        elif len(positional) == 2:
            action["exec"] = self._exec(positional[1], options)
        elif not update:
            raise UnknownCommand("action create needs an artifact")
        annotations = [{"key": k, "value": cli_value(v)} for k, v in options.get("--annotation", [])]
        if annotations:
            action["annotations"] = annotations
        parameters = [{"key": k, "value": cli_value(v)} for k, v in options.get("--param", [])]
        if parameters:
            action["parameters"] = parameters
        limits = {}
        if "--timeout" in options:
            limits["timeout"] = int(options["--timeout"])
        if "--memory" in options:
            limits["memory"] = int(options["--memory"])
        existing = None
        if update:  # augmentAction: the current action, without its code; absent is fine
            got = self.send("GET", f"/api/v1/namespaces/_/actions/{quote(name)}?code=false")
            if got.status == 200:
                existing = got.json()
            elif got.status != 404:
                raise AssertionError(f"wsk would stop here: GET answered {got.status} {got.response.text}")
        if "--web" in options:
            if options["--web"].lower() not in ("true", "yes"):
                raise UnknownCommand(f"--web {options['--web']}")
            kept = list(annotations)
            if not annotations and existing is not None:  # preserveAnnotations
                kept += [a for a in existing.get("annotations", []) if a["key"] not in {x["key"] for x in kept}]
            kept = [a for a in kept if a["key"] not in WEB_KEYS]
            kept += [{"key": "web-export", "value": True}, {"key": "raw-http", "value": False},
                     {"key": "final", "value": True}]
            if existing is not None:  # any existing require-whisk-auth is carried forward
                kept += [a for a in existing.get("annotations", [])
                         if a["key"] == "require-whisk-auth" and a["key"] not in {x["key"] for x in kept}]
            action["annotations"] = kept
        if limits:
            action["limits"] = limits
        # Go struct order: namespace, name, version, exec, annotations, delAnnotations, parameters, limits.
        order = ["namespace", "name", "exec", "annotations", "parameters", "limits"]
        body = {key: action[key] for key in order if key in action}
        self.send("PUT", f"/api/v1/namespaces/_/actions/{quote(name)}?overwrite={'true' if update else 'false'}",
                  body)

    def _exec(self, artifact: str, options: dict[str, Any]) -> dict[str, Any]:
        path = self.cwd / artifact
        extension = path.suffix
        if extension in (".zip", ".jar"):
            code = base64.b64encode(path.read_bytes()).decode()
        else:
            code = path.read_text()
        exec_: dict[str, Any] = {}
        if "--kind" in options:
            exec_["kind"] = options["--kind"]
        elif options.get("--native"):
            exec_["kind"] = "blackbox"
        elif extension in DEFAULT_KINDS:
            exec_["kind"] = DEFAULT_KINDS[extension]
        else:
            raise UnknownCommand(f"wsk refuses {artifact} without --kind")
        exec_["code"] = code
        if options.get("--native") and "--kind" not in options:
            exec_["image"] = "openwhisk/dockerskeleton"
        if "--main" in options:
            exec_["main"] = options["--main"]
        return exec_

    def _action_invoke(self, verb: str, args: list[str]) -> None:
        positional, options = self._parse(args, values=set(), flags={"--result", "--blocking"},
                                          pairs={"--param"},
                                          aliases={"-r": "--result", "-b": "--blocking", "-p": "--param"})
        result = bool(options.get("--result"))
        blocking = bool(options.get("--blocking")) or result
        payload = dict(sorted((k, cli_value(v)) for k, v in options.get("--param", [])))  # a Go map
        self.send("POST", f"/api/v1/namespaces/_/actions/{quote(positional[0])}?"
                          f"blocking={str(blocking).lower()}&result={str(result).lower()}", payload)

    def _action_list(self, verb: str, args: list[str]) -> None:
        positional, options = self._parse(args, values={"--limit", "--skip"}, flags=set(), pairs=set(),
                                          aliases={"-l": "--limit", "-s": "--skip"})
        route = f"actions/{quote(positional[0])}/" if positional else "actions"
        self.send("GET", f"/api/v1/namespaces/_/{route}?"
                         + query(limit=int(options.get("--limit", 30)), skip=int(options.get("--skip", 0))))

    def _action_get(self, verb: str, args: list[str]) -> None:
        positional, options = self._parse(args, values=set(), flags={"--url", "--save"}, pairs=set(),
                                          aliases={"-r": "--url"})
        name = positional[0]
        got = self.send("GET", f"/api/v1/namespaces/_/actions/{quote(name)}?code="
                               f"{'true' if options.get('--save') else 'false'}")
        if options.get("--url") and got.status == 200:
            action = got.json()
            namespace = quote_plus(action["namespace"].split("/")[0]).replace("+", "%20")
            simple = quote_plus(action["name"]).replace("+", "%20")
            web = any(a["key"] == "web-export" and a["value"] is True for a in action.get("annotations", []))
            url = (f"{self.client.apihost}/api/v1/web/{namespace}/default/{simple}" if web
                   else f"{self.client.apihost}/api/v1/namespaces/{namespace}/actions/{simple}")
            self.printed += [f"ok: got action {name}", url]

    def _action_delete(self, verb: str, args: list[str]) -> None:
        self.send("DELETE", f"/api/v1/namespaces/_/actions/{quote(args[0])}")

    # Activations (always namespace `_` in the URL).

    def _activation_list(self, verb: str, args: list[str]) -> None:
        positional, options = self._parse(args, values={"--limit", "--skip", "--since", "--upto"},
                                          flags={"--full"}, pairs=set(),
                                          aliases={"-l": "--limit", "-s": "--skip", "-f": "--full"})
        self.send("GET", "/api/v1/namespaces/_/activations?" + query(
            name=positional[0] if positional else None, limit=int(options.get("--limit", 30)),
            skip=int(options.get("--skip", 0)), since=options.get("--since"), upto=options.get("--upto"),
            docs=True if options.get("--full") else None))

    def _activation_get(self, verb: str, args: list[str]) -> None:
        positional, options = self._parse(args, values=set(), flags={"--last"}, pairs=set(),
                                          aliases={"-l": "--last"})
        if options.get("--last"):
            listed = self.send("GET", "/api/v1/namespaces/_/activations?" + query(limit=1, skip=0))
            positional = [listed.json()[0]["activationId"], *positional]
        suffix = "" if verb == "get" else f"/{verb}"
        self.send("GET", f"/api/v1/namespaces/_/activations/{positional[0]}{suffix}")

    def poll_start(self) -> int:
        """`wsk activation poll`'s first request; the time its rounds start from."""
        newest = self.send("GET", "/api/v1/namespaces/_/activations?" + query(limit=1, skip=0, docs=True))
        records = newest.json()
        return records[0]["start"] + 1 if records else 0

    def poll_round(self, since: int, name: str | None = None) -> list[dict[str, Any]]:
        """One polling round (wsk repeats it every 2 s): full records since ``since``."""
        return self.send("GET", "/api/v1/namespaces/_/activations?" + query(
            name=name, since=since, docs=True, limit=0, skip=0)).json()

    # Triggers (commands/trigger.go; whisk/trigger.go). whisk.Trigger's fields in order:
    # namespace, name (tagged `omityempty`, so always sent), version, activationId,
    # annotations, parameters, limits, publish, rules, updated; the empty ones are left out.

    def _trigger_update(self, verb: str, args: list[str]) -> None:
        """Trigger.Update: getJSONFromStrings(-p) as key/value pairs, then Triggers.Get;
        a 404 goes to Trigger.Create (the old style: -p only, no --feed), a found trigger
        without a feed is Insert(trigger, overwrite=true). A feed would be invoked with
        lifecycleEvent UPDATE instead: not replayed."""
        positional, options = self._parse(args, values=set(), flags=set(), pairs={"--param"},
                                          aliases={"-p": "--param"})
        (name,) = positional
        # A Go map ranged over (getKeyValueFormattedJSON): any order; sorted here to be repeatable.
        parameters = [{"key": k, "value": v}
                      for k, v in sorted({k: cli_value(v) for k, v in options.get("--param", [])}.items())]
        body: dict[str, Any] = {"name": name}
        if parameters:
            body["parameters"] = parameters
        got = self.send("GET", f"/api/v1/namespaces/_/triggers/{quote(name)}")
        if got.status == 404:  # createOrUpdate(..., overwrite=false)
            self.send("PUT", f"/api/v1/namespaces/_/triggers/{quote(name)}?overwrite=false", body)
            return
        if got.status != 200:
            raise AssertionError(f"wsk would stop here: GET answered {got.status} {got.response.text}")
        if any(a["key"] == "feed" and a["value"] for a in got.json().get("annotations", [])):
            raise UnknownCommand("trigger update of a trigger with a feed (invokes the feed action)")
        self.send("PUT", f"/api/v1/namespaces/_/triggers/{quote(name)}?overwrite=true", body)

    def _trigger_fire(self, verb: str, args: list[str]) -> None:
        """Triggers.Fire(name, getParameters(-p, false)): the parameters as a JSON object
        (a Go map: keys sorted), ``{}`` without any; prints ``ok: triggered /_/t with id ID``
        (an empty id after a 204)."""
        positional, options = self._parse(args, values=set(), flags=set(), pairs={"--param"},
                                          aliases={"-p": "--param"})
        (name,) = positional
        payload = dict(sorted((k, cli_value(v)) for k, v in options.get("--param", [])))
        fired = self.send("POST", f"/api/v1/namespaces/_/triggers/{quote(name)}", payload)
        if fired.status in (200, 202, 204):
            activation_id = fired.json().get("activationId", "") if fired.response.content else ""
            self.printed.append(f"ok: triggered /_/{name} with id {activation_id}")

    def _trigger_list(self, verb: str, args: list[str]) -> None:
        """TriggerListOptions{Limit: 30, Skip: 0} (the flags' defaults)."""
        positional, options = self._parse(args, values=set(), flags=set(), pairs=set(), aliases={})
        if positional:
            raise UnknownCommand("trigger list NAMESPACE")
        self.send("GET", "/api/v1/namespaces/_/triggers?" + query(limit=30, skip=0))

    def _trigger_create(self, verb: str, args: list[str]) -> None:
        """Trigger.Create, the old style (-p, no --feed-param/--trigger-param). Without a feed:
        PUT ``?overwrite=false`` ``{"name","parameters"}``. With ``--feed F``: the trigger gets only
        ``annotations: [{"key":"feed","value":<F's full name>}]`` (GetFullQualifiedName) and
        ``parameters`` go to the feed: invokeAction(F, getParameters(-p + feedParameters(CREATE),
        keyValueFormat=false), blocking=true, result=false). A failed PUT ends the command
        (createOrUpdate: ExitOnError); a failed feed invoke (anything but 200: an application
        error is a 502, a blocking timeout a 202) prints the record and runs deleteTrigger, i.e.
        `trigger delete` with Flags.common.param still holding the create's -p values."""
        positional, options = self._parse(args, values={"--feed"}, flags=set(), pairs={"--param"},
                                          aliases={"-f": "--feed", "-p": "--param"})
        (name,) = positional
        params = [(k, cli_value(v)) for k, v in options.get("--param", [])]
        feed = options.get("--feed")
        body: dict[str, Any] = {"name": name}
        if feed is None:
            parameters = [{"key": k, "value": v} for k, v in go_map(params).items()]  # a Go map ranged over
            if parameters:
                body["parameters"] = parameters
            created = self.send("PUT", f"/api/v1/namespaces/_/triggers/{quote(name)}?overwrite=false", body)
            if created.status == 200:
                self.printed.append(f"ok: created trigger {name}")
            else:
                self.errors.append(f"Unable to create trigger '{name}'")
            return
        feed_ns, feed_entity, feed_package, feed_simple = split_name(feed)
        full_feed = f"/{feed_ns}/" + (f"{feed_package}/" if feed_package else "") + feed_simple
        body["annotations"] = [{"key": "feed", "value": full_feed}]
        created = self.send("PUT", f"/api/v1/namespaces/_/triggers/{quote(name)}?overwrite=false", body)
        if created.status != 200:
            self.errors.append(f"Unable to create trigger '{name}'")
            return
        invoked = self._invoke_feed(full_feed, params, "CREATE", name)
        if invoked.status == 200:  # printInvocationMsg(header=true), then the record
            self.printed += [f"ok: invoked /{feed_ns}/{feed_entity} with id {invoked.json()['activationId']}",
                             f"ok: created trigger {name}"]
            return
        self._trigger_delete("delete", [name], params=params)  # deleteTrigger; its failure is ignored
        self.errors.append(f"Unable to create trigger '{name}': Unable to configure feed '{full_feed}'")

    def _invoke_feed(self, feed: str, params: list[tuple[str, Any]], event: str, trigger: str) -> Exchange:
        """The feed action invoked as configureFeed/invokeAction do it: Client.Namespace = the
        feed's namespace, Actions.Invoke(entity name, params, blocking=true, result=false); the
        parameters are the command's -p values, then lifecycleEvent, triggerName (``/_/t``:
        the trigger's namespace as given, ``_`` here) and authKey, merged in one Go map."""
        feed_ns, feed_entity, _, _ = split_name(feed)
        payload = go_map([*params, ("lifecycleEvent", event), ("triggerName", f"/_/{trigger}"),
                          ("authKey", self.auth_key)])
        return self.send("POST", f"/api/v1/namespaces/{quote(feed_ns)}/actions/{quote(feed_entity)}"
                                 "?blocking=true&result=false", payload)

    @staticmethod
    def _feed_of(trigger: dict[str, Any]) -> str:
        """getValueString(trigger.Annotations, "feed"): "" without one."""
        value = next((a["value"] for a in trigger.get("annotations") or [] if a["key"] == "feed"), "")
        return value if isinstance(value, str) else ""

    def _trigger_get(self, verb: str, args: list[str]) -> None:
        """triggerGetCmd: Triggers.Get; a trigger with a feed is shown by invoking its feed with
        READ (configureFeed; a failure is only logged), any other is printed as it is."""
        positional, _ = self._parse(args, values=set(), flags=set(), pairs=set(), aliases={})
        (name,) = positional
        got = self.send("GET", f"/api/v1/namespaces/_/triggers/{quote(name)}")
        if got.status != 200:
            self.errors.append(f"Unable to get trigger '{name}'")
            return
        feed = self._feed_of(got.json())
        if feed:
            self._invoke_feed(feed, [], "READ", name)
        else:
            self.printed.append(f"ok: got trigger {name}")

    def _trigger_delete(self, verb: str, args: list[str], params: list[tuple[str, Any]] | None = None) -> None:
        """triggerDeleteCmd: Triggers.Get (a failure ends it), the feed's DELETE when the trigger
        has a feed (a failure is only logged), then Triggers.Delete."""
        positional, _ = self._parse(args, values=set(), flags=set(), pairs=set(), aliases={})
        (name,) = positional
        got = self.send("GET", f"/api/v1/namespaces/_/triggers/{quote(name)}")
        if got.status != 200:
            self.errors.append(f"Unable to get trigger '{name}'")
            return
        feed = self._feed_of(got.json())
        if feed:
            self._invoke_feed(feed, params or [], "DELETE", name)
        deleted = self.send("DELETE", f"/api/v1/namespaces/_/triggers/{quote(name)}")
        if deleted.status == 200:
            self.printed.append(f"ok: deleted trigger {name}")
        else:
            self.errors.append(f"Unable to delete trigger '{name}'")

    # Rules (commands/rule.go; whisk/rule.go). whisk.Rule's fields in order: namespace,
    # name, version, annotations (omitempty), status, trigger, action (always sent, null
    # when unset), publish, updated (omitempty).

    def _rule_update(self, verb: str, args: list[str]) -> None:
        """ruleUpdateCmd: Rules.Insert(rule, overwrite=true), the trigger and the action
        through getQualifiedName(arg, Properties.Namespace): ``/_/name``."""
        positional, _ = self._parse(args, values=set(), flags=set(), pairs=set(), aliases={})
        name, trigger, action = positional
        body = {"name": name, "status": "", "trigger": qualified(trigger), "action": qualified(action)}
        self.send("PUT", f"/api/v1/namespaces/_/rules/{quote(name)}?overwrite=true", body)

    def _rule_set_state(self, verb: str, args: list[str]) -> None:
        """Rules.SetState: POST a whisk.Rule with only its status."""
        positional, _ = self._parse(args, values=set(), flags=set(), pairs=set(), aliases={})
        (name,) = positional
        state = "active" if verb == "enable" else "inactive"
        self.send("POST", f"/api/v1/namespaces/_/rules/{quote(name)}",
                  {"status": state, "trigger": None, "action": None})

    def _rule_get(self, verb: str, args: list[str]) -> None:
        positional, _ = self._parse(args, values=set(), flags=set(), pairs=set(), aliases={})
        (name,) = positional
        self.send("GET", f"/api/v1/namespaces/_/rules/{quote(name)}")

    def _rule_list(self, verb: str, args: list[str]) -> None:
        """RuleListOptions{Limit: 30, Skip: 0}, then Rules.Get of each rule for its status."""
        positional, _ = self._parse(args, values=set(), flags=set(), pairs=set(), aliases={})
        if positional:
            raise UnknownCommand("rule list NAMESPACE")
        self._rules_with_status(query(limit=30, skip=0))

    def _rule_delete(self, verb: str, args: list[str]) -> None:
        """ruleDeleteCmd without --disable: Rules.Delete, one DELETE."""
        positional, _ = self._parse(args, values=set(), flags=set(), pairs=set(), aliases={})
        (name,) = positional
        deleted = self.send("DELETE", f"/api/v1/namespaces/_/rules/{quote(name)}")
        if deleted.status == 200:
            self.printed.append(f"ok: deleted rule {name}")
        else:
            self.errors.append(f"Unable to delete rule '{name}'")

    def _rules_with_status(self, options: str) -> None:
        listed = self.send("GET", "/api/v1/namespaces/_/rules?" + options)
        if listed.status != 200:
            return  # wsk stops: "Unable to obtain the list of rules ..."
        for rule in listed.json():
            got = self.send("GET", f"/api/v1/namespaces/_/rules/{quote(rule['name'])}")
            if got.status != 200:
                return  # wsk stops: "Unable to get status of rule ..."

    # API gateway (commands/api.go; whisk/api.go). The apimgmt web actions, with Basic auth;
    # the query is whisk.ApiOptions (action, basepath, relpath, operation, apiname, spaceguid,
    # accesstoken, responsetype; all omitempty) through addRouteOptions (whisk/util.go):
    # go-querystring + url.Values.Encode, so sorted and `DUMMY+TOKEN`.

    APIMGMT = "/api/v1/web/whisk.system/apimgmt"
    ACCESS_TOKEN = "DUMMY TOKEN"  # getAccessToken: no APIGW_ACCESS_TOKEN in .wskprops

    @property
    def space_guid(self) -> str:
        """getUserContextId: the AUTH property's part before the colon."""
        return self.auth_key.split(":")[0]

    def _api_create(self, verb: str, args: list[str]) -> None:
        """apiCreateCmd with ``[BASE_PATH] API_PATH API_VERB ACTION [--response-type T]``:
        parseApi builds the whisk.Api, isWebAction GETs the action (``?code=false``: refused
        unless web-export is true), its require-whisk-auth becomes ``action.secureKey``, then
        Apis.Insert POSTs ``createApi.http`` with ``{"apidoc": <whisk.Api>}`` and
        ``?accesstoken=&responsetype=&spaceguid=``; wsk prints ``ok: created API <base><path>
        <VERB> for action /_/<name>`` and the managed URL, gwApiUrl + API_PATH."""
        positional, options = self._parse(args, values={"--response-type"}, flags=set(), pairs=set(),
                                          aliases={})
        if len(positional) == 3:
            positional = ["/", *positional]
        basepath, relpath, method, action_name = positional
        if not basepath.startswith("/"):
            raise UnknownCommand("api create with an API name instead of a base path")
        if "{" in relpath:
            raise UnknownCommand("api create with path parameters (pathParameters, --response-type http)")
        method = method.upper()
        namespace, entity_name, package, entity = split_name(action_name)
        got = self.send("GET", f"/api/v1/namespaces/{quote(namespace)}/actions/{quote(entity_name)}?code=false")
        if got.status != 200:
            self.errors.append(f"Unable to get action '/{namespace}/{entity_name}'")
            return
        marks = {a["key"]: a["value"] for a in got.json().get("annotations") or []}
        if marks.get("web-export") is not True:  # Action.WebAction: the value must be the boolean true
            self.errors.append(f"Action '/{namespace}/{entity_name}' is not a web action.")
            return
        backend = (f"{self.client.apihost}/api/v1/web/{namespace}/{package or 'default'}/{entity}.http")
        if not backend.startswith("http"):
            backend = "https://" + backend
        # whisk.ApiAction's fields in order: name, namespace, backendMethod, backendUrl, authkey, secureKey.
        action: dict[str, Any] = {"name": entity_name, "namespace": namespace, "backendMethod": method,
                                  "backendUrl": backend, "authkey": self.auth_key}
        if marks.get("require-whisk-auth") is not None:
            action["secureKey"] = marks["require-whisk-auth"]
        # whisk.Api's fields in order: namespace (Client.Config.Namespace), apiName, gatewayBasePath,
        # gatewayPath, gatewayMethod, id, gatewayFullPath, swagger, action, pathParameters (empty: left out).
        apidoc = {"namespace": "_", "gatewayBasePath": basepath, "gatewayPath": relpath, "gatewayMethod": method,
                  "id": f"API:_:{basepath}", "action": action}
        created = self.send("POST", f"{self.APIMGMT}/createApi.http?" + query(
            accesstoken=self.ACCESS_TOKEN, responsetype=options.get("--response-type", "json"),
            spaceguid=self.space_guid), {"apidoc": apidoc})
        if created.status != 200:
            self.errors.append("Unable to create API")
            return
        base_url = created.json()["gwApiUrl"]
        self.printed += [f"ok: created API {basepath.rstrip('/')}{relpath} {method} for action "
                         f"/{namespace}/{entity_name}", base_url.rstrip("/") + relpath]

    def _api_list(self, verb: str, args: list[str]) -> None:
        """apiListCmd without arguments: Apis.List with ApiListRequestOptions{ApiOptions, Limit 30,
        Skip 0, Docs (omitempty)}, the embedded ApiOptions' fields inlined: GET getApi.http."""
        positional, _ = self._parse(args, values=set(), flags=set(), pairs=set(), aliases={})
        if positional:
            raise UnknownCommand("api list BASE_PATH (Apis.Get)")
        self.send("GET", f"{self.APIMGMT}/getApi.http?" + query(
            accesstoken=self.ACCESS_TOKEN, limit=30, skip=0, spaceguid=self.space_guid))

    def _api_get(self, verb: str, args: list[str]) -> None:
        """apiGetCmd: Apis.Get with ApiGetRequestOptions{ApiBasePath: BASE_PATH}: GET getApi.http
        (no body); wsk prints the first entry's swagger, or "API does not exist for basepath"."""
        positional, _ = self._parse(args, values=set(), flags=set(), pairs=set(), aliases={})
        (basepath,) = positional
        got = self.send("GET", f"{self.APIMGMT}/getApi.http?" + query(
            accesstoken=self.ACCESS_TOKEN, basepath=basepath, spaceguid=self.space_guid))
        if got.status != 200 or not got.json().get("apis"):
            self.errors.append(f"API does not exist for basepath {basepath}")

    def _api_delete(self, verb: str, args: list[str]) -> None:
        """apiDeleteCmd: Apis.Delete with ApiDeleteRequestOptions{ApiBasePath[, ApiRelPath[,
        ApiVerb upper-cased]]}: DELETE deleteApi.http (no body)."""
        positional, _ = self._parse(args, values=set(), flags=set(), pairs=set(), aliases={})
        basepath, relpath, operation = (positional + [None, None])[:3]
        deleted = self.send("DELETE", f"{self.APIMGMT}/deleteApi.http?" + query(
            accesstoken=self.ACCESS_TOKEN, basepath=basepath, operation=operation.upper() if operation else None,
            relpath=relpath, spaceguid=self.space_guid))
        if deleted.status != 200:
            self.errors.append("Unable to delete API")
        elif relpath is None:
            self.printed.append(f"ok: deleted API {basepath}")
        else:
            self.printed.append(f"ok: deleted {relpath} {operation.upper() + ' ' if operation else ''}from {basepath}")

    # Namespaces and properties.

    def _namespace_list(self, verb: str, args: list[str]) -> None:
        self.send("GET", "/api/v1/namespaces")

    def _namespace_get(self, verb: str, args: list[str]) -> None:
        """`wsk namespace get` and `wsk list` (commands/namespace.go): every collection,
        limit 0 (the maximum), then each rule for its status."""
        for collection in ("actions", "packages", "triggers"):
            self.send("GET", f"/api/v1/namespaces/_/{collection}?" + query(limit=0, skip=0))
        self._rules_with_status(query(limit=0, skip=0))

    def _property_get(self, verb: str, args: list[str]) -> None:
        self.send("GET", "/api/v1", auth=False)
