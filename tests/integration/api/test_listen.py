"""Secure by default: `whiskrun serve` without --host listens on loopback and
on the Docker bridge's address (where action containers reach it), not on
the machine's other addresses; with --host on a public address and the
well-known guest key it says so."""

import socket
import subprocess

import pytest

from whiskrun.api.server import docker_bridge_address

from .server_support import ApiServer

pytestmark = pytest.mark.docker


def other_addresses() -> list[str]:
    """This machine's IPv4 addresses outside loopback and Docker's bridge."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, check=True).stdout
    bridge = docker_bridge_address()
    found = [line.split()[3].split("/")[0] for line in out.splitlines()]
    return [a for a in found if not a.startswith("127.") and a != bridge]


def reachable(address: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex((address, port)) == 0


def test_default_listens_on_loopback_and_the_bridge_only(api_docker, tmp_path_factory):
    bridge = docker_bridge_address()
    assert bridge, "Docker reports no bridge address"
    others = other_addresses()
    assert others, "this machine has no address besides loopback and Docker's bridge to check against"
    server = ApiServer(api_docker, tmp_path_factory.mktemp("listen"), tmp_path_factory.getbasetemp(), host=None)
    server.start()
    try:
        assert reachable("127.0.0.1", server.port)
        assert reachable(bridge, server.port)
        for address in others:
            assert not reachable(address, server.port), f"the API answers on {address}"
        assert server.client().get("/api/v1/namespaces").status_code == 200
    finally:
        server.stop()


def test_a_public_address_with_the_guest_key_is_warned_about(api_docker, tmp_path_factory):
    server = ApiServer(api_docker, tmp_path_factory.mktemp("public"), tmp_path_factory.getbasetemp(),
                       host="0.0.0.0")
    server.start()
    try:
        assert "anyone who can reach this port can run code here" in server.log()
    finally:
        server.stop()
