"""The `whiskrun` command."""

import base64
import json
import sys
from pathlib import Path

import click

from . import kinds
from .direct import ActionContainer, connect
from .errors import WhiskrunError


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
        if line and "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX" not in line:
            click.echo(f"log: {line}", err=True)
    sys.exit(0 if status == 200 else 1)


def _parse_value(raw: str) -> object:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


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
