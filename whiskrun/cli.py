"""The `whiskrun` command."""

import base64
import json
import os
import sys
from pathlib import Path

import click

from actionproxy.protocol import SENTINEL

from . import kinds
from .direct import ActionContainer, connect
from .errors import WhiskrunError
from .invoker.errors import InvokerError


@click.group()
@click.version_option(package_name="whiskrun")
def main() -> None:
    """Run OpenWhisk actions on this machine."""


@main.command("run-sample")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--kind", help="python:3.11, nodejs:18 or blackbox (default: from the file's extension).")
@click.option("--main", "main_name", default="main", show_default=True, help="The action's entry point.")
@click.option("-p", "--param", "params", nargs=2, multiple=True, metavar="KEY VALUE",
              help="A parameter; VALUE is parsed as JSON when it can be.")
def run_sample(path: Path, kind: str | None, main_name: str, params: tuple[tuple[str, str], ...]) -> None:
    """Run one action directly in a fresh container of its runtime image and print the result."""
    try:
        chosen = kinds.resolve(kind) if kind else kinds.infer(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise WhiskrunError(f"Cannot read the action file {path}: {exc.strerror}.") from exc
        binary = path.suffix == ".zip"
        code = base64.b64encode(data).decode() if binary else data.decode("utf-8")
        value = {key: _parse_value(raw) for key, raw in params}
        with ActionContainer(connect(), chosen.image, labels={"whiskrun.purpose": "run-sample"}) as container:
            status, body = container.init(code, main=main_name, binary=binary)
            if status != 200:
                raise WhiskrunError(f"/init failed with {status}: {json.dumps(body)}")
            status, body = container.run(value)
            out, err = container.logs()
    except WhiskrunError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(json.dumps(body, indent=2, ensure_ascii=False))
    for line in (out + err).splitlines():
        if line and SENTINEL not in line:
            click.echo(f"log: {line}", err=True)
    sys.exit(0 if status == 200 else 1)


def _parse_value(raw: str) -> object:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--kind", help="python:3.11, nodejs:18 or blackbox (default: from the file's extension).")
@click.option("--main", "main_name", default="main", show_default=True, help="The action's entry point.")
@click.option("-p", "--param", "params", nargs=2, multiple=True, metavar="KEY VALUE",
              help="A parameter; VALUE is parsed as JSON when it can be, else taken as a string.")
@click.option("-P", "--param-file", type=click.Path(path_type=Path), help="A JSON object of parameters.")
@click.option("--repeat", default=1, show_default=True, type=click.IntRange(min=1), help="Activations to run.")
@click.option("--interval", default=0.0, type=click.FloatRange(min=0), help="Seconds between activations.")
@click.option("--timeout", "timeout_ms", default=60_000, type=click.IntRange(100, 300_000), help="Time limit, ms.")
@click.option("--memory", "memory_mb", default=256, type=click.IntRange(128, 512), help="Memory limit, MB.")
@click.option("--logs", "logs_mb", default=10, type=click.IntRange(0, 10), help="Log limit, MB.")
@click.option("--concurrency", default=1, type=click.IntRange(1, 500), help="Activations sharing a container.")
@click.option("--json", "as_json", is_flag=True, help="Print the activation records as JSON.")
def invoke(path: Path, kind: str | None, main_name: str, params: tuple[tuple[str, str], ...],
           param_file: Path | None, repeat: int, interval: float, timeout_ms: int, memory_mb: int,
           logs_mb: int, concurrency: int, as_json: bool) -> None:
    """Run an action through the invoker's container pool and show its start path and phases.

    Settings come from WHISKRUN_* variables; see `whiskrun settings`."""
    import time

    from .actions import load_action
    from .invoker.config import InvokerConfig
    from .invoker.invoker import Invocation
    from .invoker.records import Limits
    from .invoker.service import running_invoker
    from .report_text import describe_activation

    _show_invoker_logs()
    try:
        config = InvokerConfig.from_env(os.environ)
        if concurrency > 1 and not (kind or path.suffix).startswith(("nodejs", ".js")):
            raise WhiskrunError("Only Node.js actions can share a container (--concurrency above 1).")
        action = load_action(path, kind=kind, main=main_name,
                             limits=Limits(timeout_ms, memory_mb, logs_mb, concurrency))
        arguments = _load_params(param_file, params)
        records = []
        with running_invoker(config) as invoker:
            for number in range(repeat):
                if number and interval:
                    time.sleep(interval)
                record = invoker.invoke(action, Invocation(params=arguments))
                records.append(record)
                if not as_json:
                    click.echo(describe_activation(record))
    except KeyboardInterrupt:
        click.echo("interrupted; containers removed", err=True)
        sys.exit(130)
    except (WhiskrunError, InvokerError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps([r.to_json() for r in records], indent=2, ensure_ascii=False))
    sys.exit(0 if all(r.response.success for r in records) else 1)


def _show_invoker_logs() -> None:
    """Warnings of the invoker, and its one line on checkpoint/restore, on stderr."""
    import logging

    logging.basicConfig(level=logging.WARNING, format="whiskrun: %(message)s")
    logging.getLogger("whiskrun.invoker.service").setLevel(logging.INFO)


def _load_params(param_file: Path | None, params: tuple[tuple[str, str], ...]) -> dict:
    arguments: dict = {}
    if param_file is not None:
        try:
            loaded = json.loads(param_file.read_text())
        except OSError as exc:
            raise WhiskrunError(f"Cannot read the parameter file {param_file}: {exc.strerror}.") from exc
        except ValueError as exc:
            raise WhiskrunError(f"The parameter file {param_file} is not valid JSON ({exc}).") from exc
        if not isinstance(loaded, dict):
            raise WhiskrunError(f"The parameter file {param_file} must hold a JSON object, "
                                f"not {type(loaded).__name__}.")
        arguments.update(loaded)
    arguments.update({key: _parse_value(raw) for key, raw in params})
    return arguments


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the snapshots' records as JSON.")
def snapshots(as_json: bool) -> None:
    """List the CRIU snapshots: action, size, age and restores served."""
    import dataclasses
    import time
    from pathlib import Path

    from rich.console import Console
    from rich.table import Table

    from .invoker.config import InvokerConfig
    from .invoker.snapshots import SnapshotStore

    try:
        config = InvokerConfig.from_env(os.environ)
    except WhiskrunError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    folder = Path(config.snapshot_dir)
    entries = SnapshotStore(folder, config.snapshot_budget_mb * 1024 * 1024).entries() if folder.is_dir() else []
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(e) for e in entries], indent=2))
        return
    if not entries:
        click.echo(f"no snapshots in {folder}")
        return
    table = Table(title=f"Snapshots in {folder} (budget {config.snapshot_budget_mb} MB)")
    for column in ("action", "version", "kind", "memory", "size", "age", "restores", "checkpoint"):
        table.add_column(column, justify="left" if column in ("action", "kind") else "right")
    now = time.time()
    for entry in sorted(entries, key=lambda e: e.last_used, reverse=True):
        table.add_row(f"/{entry.namespace}/{entry.action}", entry.version, entry.kind, f"{entry.memory_mb} MB",
                      f"{entry.size_bytes / 1e6:.1f} MB", _age(now - entry.created), str(entry.restores),
                      f"{entry.checkpoint_ms:.0f} ms")
    Console(width=120).print(table)


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


@main.command()
def settings() -> None:
    """List the WHISKRUN_* settings of the invoker."""
    from .invoker.config import InvokerConfig

    click.echo(InvokerConfig.describe())


@main.command()
def cleanup() -> None:
    """Remove every container whiskrun started (found by its label)."""
    from .direct import remove_managed

    try:
        removed = remove_managed(connect())
    except WhiskrunError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"removed {removed} container(s)")


@main.command()
@click.option("--host", default=None,
              help="Address to listen on (default: 127.0.0.1 and the Docker bridge's address, where actions "
                   "reach the API; 0.0.0.0 for every interface).")
@click.option("--port", default=3233, show_default=True, type=click.IntRange(0, 65535),
              help="Port of the API (OpenWhisk standalone's is 3233; 0 picks a free one).")
@click.option("--data-dir", type=click.Path(path_type=Path), default=Path(".whiskrun"), show_default=True,
              help="Folder of the SQLite file holding actions and activations.")
@click.option("--namespaces", "namespaces_file", type=click.Path(path_type=Path),
              help="TOML file with a [namespaces] table of name = \"uuid:key\" (default: guest and "
                   "whisk.system with OpenWhisk's standard keys).")
@click.option("--setup/--no-setup", default=True, show_default=True,
              help="Run the host setup (Docker, CRIU, images) first when something is missing.")
def serve(host: str | None, port: int, data_dir: Path, namespaces_file: Path | None, setup: bool) -> None:
    """Serve OpenWhisk's REST API: point `wsk` or the openwhisk npm client at it.

    Invoker settings come from WHISKRUN_* variables; see `whiskrun settings`."""
    import dataclasses

    from .api.config import GUEST_KEY, ApiConfig, read_namespaces
    from .api.server import docker_bridge_address, prepare_host, serve as serve_api
    from .invoker.config import InvokerConfig

    _show_invoker_logs()
    say = lambda text: click.echo(text, err=True)  # noqa: E731
    try:
        if port == 0:  # choose it now: containers are told the API's address when they start
            import socket

            with socket.socket() as probe:
                probe.bind((host or "127.0.0.1", 0))
                port = probe.getsockname()[1]
        invoker_config = InvokerConfig.from_env(os.environ)
        if "WHISKRUN_API_HOST" not in os.environ:
            # Actions that call the API (the openwhisk npm client reads __OW_API_HOST) reach
            # this server through the docker bridge.
            bridge = docker_bridge_address() or "172.17.0.1"
            invoker_config = dataclasses.replace(invoker_config, api_host=f"http://{bridge}:{port}")
        config = ApiConfig(host=host, port=port, data_dir=data_dir,
                           **({"namespaces": read_namespaces(namespaces_file)} if namespaces_file else {}))
        if host is not None and host not in ("127.0.0.1", "localhost", "::1") \
                and GUEST_KEY in config.namespaces.values():
            say(f"whiskrun: warning: listening on {host} with OpenWhisk's well-known guest key: anyone who can "
                "reach this port can run code here. Pass --namespaces with keys of your own.")
        if setup:
            prepare_host(say)
        serve_api(config, invoker_config, say=say)
        # waitress ends its loop on Ctrl-C and SIGTERM (our handler raises KeyboardInterrupt
        # in it) and returns; the invoker's containers are removed by then.
        say("whiskrun: stopped; containers removed")
    except KeyboardInterrupt:
        say("whiskrun: stopped; containers removed")
    except (WhiskrunError, InvokerError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


def _epoch_ms(text: str | None) -> int | None:
    """Epoch milliseconds, or a span back from now: 90s, 15m, 2h, 1d."""
    if text is None:
        return None
    import time

    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text[-1:] in units and text[:-1].isdigit():
        return int((time.time() - int(text[:-1]) * units[text[-1]]) * 1000)
    if text.isdigit():
        return int(text)
    raise click.BadParameter(f"'{text}' is neither epoch milliseconds nor a span such as 15m or 2h.")


@main.command()
@click.option("--quick", is_flag=True, help="A small matrix that finishes in under two minutes.")
@click.option("--runtimes", default="python,nodejs,native", show_default=True, help="Comma-separated runtimes.")
@click.option("--actions", default="echo,heavy-init", show_default=True,
              help="Comma-separated: echo (every runtime), heavy-init (wsk-samples/heavy_init.py, python).")
@click.option("--paths", default="cold,prewarm,restore,unpause,warm", show_default=True,
              help="Comma-separated start paths to force.")
@click.option("-n", "--rounds", type=click.IntRange(1), help="Rounds per workload (default 20; --quick 3).")
@click.option("--warm-per-round", type=click.IntRange(1), help="Warm activations and direct /runs per round "
              "(default 25; --quick 5).")
@click.option("--primitives/--no-primitives", default=True, show_default=True,
              help="Measure docker run, direct /run, runc resume and a raw CRIU restore alongside.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("."), show_default=True,
              help="Folder in which the run's folder (whiskrun-bench-<time>) is made.")
def bench(quick: bool, runtimes: str, actions: str, paths: str, rounds: int | None, warm_per_round: int | None,
          primitives: bool, out: Path) -> None:
    """Force every start path on real containers, next to the raw primitives.

    Each round of each workload takes a cold start (a new version at a memory no stem cell
    matches), warm reuses, an unpause (the container paused on purpose), a prewarmed stem
    cell and a restore from a snapshot taken before the rounds, then the primitives on a bare
    container. `whiskrun report` then makes the tables and pictures."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .benchmark import runfile
    from .benchmark.matrix import Matrix, parse_paths, workloads
    from .benchmark.runner import run_matrix
    from .report.samples import Sample

    _show_invoker_logs()
    console = Console(stderr=True)
    try:
        matrix = Matrix(workloads([a.strip() for a in actions.split(",") if a.strip()],
                                  [r.strip() for r in runtimes.split(",") if r.strip()]),
                        parse_paths(paths), rounds or (3 if quick else 20),
                        warm_per_round or (5 if quick else 25), primitives)
        folder = runfile.new_run_folder(out)
    except (WhiskrunError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    meta = {"command": "whiskrun bench " + " ".join(sys.argv[2:]), "when": runfile.now_utc(),
            "machine": runfile.machine(), "rounds": matrix.rounds, "warm_per_round": matrix.warm_per_round,
            "paths": list(matrix.paths), "workloads": [w.label for w in matrix.workloads]}
    samples: list[Sample] = []
    interrupted = False
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("starting", total=matrix.steps)
        try:
            run_matrix(matrix, samples.append,
                       lambda what: progress.update(task, advance=1, description=what))
        except KeyboardInterrupt:
            interrupted = True
            meta["aborted"] = "interrupted"
        except (WhiskrunError, InvokerError) as exc:
            console.print(f"error: {exc}; the samples taken so far are kept")
            meta["aborted"] = str(exc)
        except Exception as exc:  # noqa: BLE001 - keep what was measured, then show the failure
            meta["aborted"] = f"{type(exc).__name__}: {exc}"
            runfile.write(folder, meta, samples)
            raise
    path = runfile.write(folder, meta, samples)
    failed = sum(1 for s in samples if not s.success)
    click.echo(f"{len(samples)} samples ({failed} failed) in {path}; `whiskrun report` makes the tables "
               "and pictures.")
    sys.exit(130 if interrupted else 0)


@main.command()
@click.argument("run", required=False, type=click.Path(path_type=Path))
@click.option("--server", "from_server", is_flag=True, help="Report the activations a running server stored.")
@click.option("--apihost", help="With --server: the API (default: APIHOST of ~/.wskprops, else "
              "http://localhost:3233).")
@click.option("--auth", help="With --server: uuid:key (default: AUTH of ~/.wskprops, else the guest key).")
@click.option("--name", help="With --server: only this action (name or package/name).")
@click.option("--since", help="With --server: activations that started after this: epoch ms or a span (15m, 2h).")
@click.option("--upto", help="With --server: activations that started before this: epoch ms or a span.")
@click.option("--limit", default=10_000, show_default=True, type=click.IntRange(1),
              help="With --server: the most recent N activations.")
@click.option("--compare", nargs=2, type=click.Path(path_type=Path), metavar="OLD NEW",
              help="Compare two runs (run folders, samples.json or report.json).")
@click.option("--out", type=click.Path(path_type=Path), help="Where to write report.json, report.html and the "
              "PNGs (default: the run's folder; with --server, ./whiskrun-report-<time>).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON instead of a table.")
def report(run: Path | None, from_server: bool, apihost: str | None, auth: str | None, name: str | None,
           since: str | None, upto: str | None, limit: int, compare: tuple[Path, Path] | None, out: Path | None,
           as_json: bool) -> None:
    """Tables, JSON, an HTML page and PNG pictures of start-path timings.

    With no argument, from the latest `whiskrun bench` run in this folder; or from RUN; or,
    with --server, from a running server's activation records."""
    from rich.console import Console

    from .api.config import GUEST_KEY
    from .report import sources
    from .report.terminal import print_comparison, print_goals, print_table

    console = Console(width=170)
    try:
        if compare:
            from .report.compare import compare as compare_reports

            old, new = (sources.load_report(path) for path in compare)
            rows = compare_reports(old, new)
            if as_json:
                click.echo(json.dumps(rows, indent=2))
            else:
                print_comparison(rows, console, title=f"{compare[0]} → {compare[1]} (ms)")
            return
        if from_server:
            from datetime import datetime

            apihost, auth = sources.api_target(apihost, auth, os.environ, GUEST_KEY)
            server_figures, read = sources.server_report(
                apihost, auth, name=name, since=_epoch_ms(since), upto=_epoch_ms(upto), limit=limit,
                command="whiskrun report " + " ".join(sys.argv[2:]))
            if server_figures is None:
                window = f" of {name}" if name else ""
                click.echo(f"No activations{window} with a start path in that window ({read} records read "
                           f"from {apihost}); invoke an action first, or widen --since/--upto.", err=True)
                sys.exit(1)
            figures, folder = server_figures, Path(f"whiskrun-report-{datetime.now():%Y%m%d-%H%M%S}")
        else:
            figures, folder = sources.bench_report(run)
    except WhiskrunError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    from .report.outputs import write_all

    source = figures["source"]
    print_table(figures, console, title=f"Start paths ({source.get('command') or source.get('apihost')}; "
                                        "ms, caller's view)")
    print_goals(figures, console)
    written = write_all(figures, out or folder)
    totals = figures["totals"]
    unreadable = figures["source"].get("unreadable_samples")
    if unreadable:
        click.echo(f"{unreadable} samples of the run could not be read (malformed entries) and are left out.")
    if totals["failures"]:
        click.echo(f"{totals['failures']} of {totals['samples']} samples failed; the table counts them and "
                   "report.html lists their errors.")
    for what, path in written.items():
        click.echo(f"{what}: {path}")
