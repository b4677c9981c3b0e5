"""`whiskrun report --server` on a real server: the records' start paths,
grouped per action, written as the report's files."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .server_support import ApiClient

pytestmark = pytest.mark.docker

WHISKRUN = Path(sys.executable).parent / "whiskrun"  # the venv's command
ECHO = "def main(args):\n    return args\n"


def report(api: ApiClient, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(WHISKRUN), "report", "--server", "--apihost", api.apihost,
                           "--out", str(out), *extra], capture_output=True, text=True, timeout=120)


def test_report_of_a_servers_records_groups_them_by_action_and_start_path(api: ApiClient, tmp_path: Path):
    answer = api.put("/api/v1/namespaces/_/actions/report-echo?overwrite=true",
                     {"exec": {"kind": "python:3.11", "code": ECHO}})
    assert answer.status_code == 200, answer.text
    for _ in range(3):
        answer = api.post("/api/v1/namespaces/_/actions/report-echo?blocking=true", {"x": 1})
        assert answer.status_code == 200, answer.text

    done = report(api, tmp_path / "out", "--name", "report-echo")
    assert done.returncode == 0, done.stderr
    figures = json.loads((tmp_path / "out" / "report.json").read_text())
    groups = {g["path"]: g for g in figures["groups"]}
    assert set(groups) <= {"cold", "prewarm", "restore", "warm"}
    assert sum(g["count"] for g in groups.values()) == 3
    assert groups["warm"]["count"] >= 2 and all(g["action"] == "guest/report-echo" for g in groups.values())
    assert figures["source"]["kind"] == "server" and figures["goals"] == []
    assert (tmp_path / "out" / "report.html").stat().st_size > 0


def test_a_window_without_activations_is_said_not_drawn(api: ApiClient, tmp_path: Path):
    done = report(api, tmp_path / "empty", "--name", "never-invoked")
    assert done.returncode == 1
    assert "No activations of never-invoked with a start path" in done.stderr
    assert not (tmp_path / "empty").exists()
