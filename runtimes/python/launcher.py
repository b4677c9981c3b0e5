"""The Python action loop: load the action once, then serve activations over pipes.

Started by the action proxy at /init with ``--action-dir``, ``--main``,
optionally ``--source`` (plain source written as ``__main__.py``) and
``--result-fd``. It writes ``{"ok": true}`` or ``{"error": ...}`` to the result
descriptor once the action is loaded, then for each JSON line on stdin
(``{"id", "value", "env"}``) calls the entry point with ``__OW_*`` variables
set for that run only, flushes stdout and stderr, and answers one JSON line.

This file runs with only the standard library: it may run inside the
action's own virtualenv.
"""

import argparse
import gc
import importlib.util
import json
import os
import random
import sys
import traceback

BUILD_FAILED = "The action failed to generate or locate a binary. See logs for details."
CANNOT_START = "Cannot start action. Check logs for details."
INVALID_VIRTUALENV = "Invalid virtualenv. Zip file does not include 'activate_this.py'."
NOT_DICT_RESULT = "The action did not return a dictionary or array."


class LoadError(Exception):
    """The action cannot be loaded; ``answer`` goes back to the proxy."""

    def __init__(self, answer: str, log: str) -> None:
        super().__init__(log)
        self.answer = answer
        self.log = log


def activate_virtualenv(action_dir: str) -> None:
    venv = os.path.join(action_dir, "virtualenv")
    if not os.path.isdir(venv):
        return
    for candidate in ("bin/activate_this.py", "Scripts/activate_this.py"):
        script = os.path.join(venv, candidate)
        if os.path.isfile(script):
            with open(script, encoding="utf-8") as handle:
                exec(compile(handle.read(), script, "exec"), {"__file__": script})
            return
    raise LoadError(BUILD_FAILED, INVALID_VIRTUALENV)


def load_entry_point(action_dir: str, main_name: str, from_zip: bool):
    path = os.path.join(action_dir, "__main__.py")
    if not os.path.isfile(path):
        raise LoadError(BUILD_FAILED, "Zip file does not include __main__.py")
    with open(path, "rb") as handle:
        source = handle.read()
    try:
        code = compile(source, path, "exec")
    except (SyntaxError, ValueError):
        raise LoadError(BUILD_FAILED, traceback.format_exc())
    spec = importlib.util.spec_from_file_location("main__", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["main__"] = module
    try:
        exec(code, module.__dict__)
    except Exception:
        raise LoadError(CANNOT_START, traceback.format_exc())
    entry = getattr(module, main_name, None)
    if not callable(entry):
        found = "is not a function" if entry is not None else "is not defined"
        raise LoadError(
            f"The action's entry point '{main_name}' {found} in its code; define "
            f"'def {main_name}(args):' or set main to the name of the action's function.",
            f"Entry point '{main_name}' {found} in {'the zip' if from_zip else 'the source'}.",
        )
    return entry


def answer(out, message) -> None:
    """Write one line to the proxy, after the action's own output."""
    try:
        # allow_nan=False: NaN and Infinity are not JSON, and the invoker
        # could not parse a result holding them.
        encoded = json.dumps(message, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        print(f"The action's result cannot be encoded as JSON: {exc}", file=sys.stderr)
        encoded = json.dumps({"id": message.get("id"), "status": 502, "error": NOT_DICT_RESULT})
    sys.stdout.flush()
    sys.stderr.flush()
    out.write(encoded.encode("utf-8") + b"\n")
    out.flush()


def run_hook(name: str) -> dict:
    """After a CRIU restore (name "after_restore"): give this clone its own
    random state, then call the action's function of that name, if any."""
    if name == "after_restore":
        random.seed()  # every clone of a snapshot would draw the same numbers
    hook = getattr(sys.modules.get("main__"), name, None)
    if not callable(hook):
        return {"ok": True, "called": False}
    try:
        hook()
    except Exception as exc:
        traceback.print_exc()
        return {"ok": False, "called": True, "error": str(exc)}
    return {"ok": True, "called": True}


def serve(entry, out) -> None:
    previous = {}
    for line in sys.stdin.buffer:
        request = json.loads(line)
        if "hook" in request:
            answer(out, {"id": request["id"], "result": run_hook(request["hook"])})
            continue
        # The previous run's context goes: each run sees only its own values.
        for key in previous:
            os.environ.pop(key, None)
        previous = request.get("env", {})
        os.environ.update(previous)
        try:
            result = entry(request.get("value", {}))
        except Exception as exc:
            # As OpenWhisk's Python launcher: an application error, traceback in the logs.
            traceback.print_exc()
            result = {"error": str(exc)}
        answer(out, {"id": request["id"], "result": result})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--action-dir", required=True)
    parser.add_argument("--main", default="main")
    parser.add_argument("--source")
    parser.add_argument("--result-fd", type=int, required=True)
    args = parser.parse_args()
    out = os.fdopen(args.result_fd, "wb")
    # A child the action leaves running (os.system("... &")) must not hold the
    # result pipe open: the proxy sees the launcher's exit by its closing.
    os.set_inheritable(args.result_fd, False)
    os.chdir(args.action_dir)
    sys.path.insert(0, args.action_dir)
    sys.argv = [os.path.join(args.action_dir, "__main__.py")]
    try:
        activate_virtualenv(args.action_dir)
        entry = load_entry_point(args.action_dir, args.main, from_zip=args.source is None)
    except LoadError as error:
        print(error.log, file=sys.stderr)
        answer(out, {"error": error.answer})
        sys.exit(1)
    if os.environ.get("OW_SNAPSHOT_SOURCE") == "1":
        # whiskrun takes a snapshot after this init: keep the collector off
        # what init built, so that clones keep sharing its pages.
        gc.collect()
        gc.freeze()
    answer(out, {"ok": True})
    serve(entry, out)


if __name__ == "__main__":
    main()
