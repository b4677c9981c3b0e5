"""ProxyConfig.from_env: one read of the container's environment, validated."""

from pathlib import Path

import pytest

from actionproxy.config import ProxyConfig

LOOP = {"OW_LAUNCHER": "python3 /opt/whiskrun/runtimes/python/launcher.py"}


def test_defaults_for_a_loop_runtime() -> None:
    assert ProxyConfig.from_env(LOOP) == ProxyConfig(
        mode="loop",
        launcher=("python3", "/opt/whiskrun/runtimes/python/launcher.py"),
        action_dir=Path("/action"),
        allow_reinit=False,
        allow_concurrent=False,
        threads=4,
        threads_at_start=4,
        base_env=LOOP,
    )


@pytest.mark.parametrize(("at_snapshot", "expected"), [("1", 1), ("0", 1), ("9", 4), (None, 4)])
def test_a_snapshot_source_starts_with_fewer_threads(at_snapshot: str | None, expected: int) -> None:
    environ = {**LOOP, **({"OW_PROXY_THREADS_AT_SNAPSHOT": at_snapshot} if at_snapshot else {})}
    config = ProxyConfig.from_env(environ)
    assert (config.threads, config.threads_at_start) == (4, expected)


def test_native_mode_needs_no_launcher() -> None:
    config = ProxyConfig.from_env({"OW_ACTION_MODE": "native", "OW_ACTION_DIR": "/srv/action"})
    assert (config.mode, config.launcher, config.action_dir) == ("native", (), Path("/srv/action"))


def test_launcher_is_split_like_a_shell_command() -> None:
    config = ProxyConfig.from_env({"OW_LAUNCHER": "'/opt/my node/node' launcher.js --flag 'a b'"})
    assert config.launcher == ("/opt/my node/node", "launcher.js", "--flag", "a b")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"OW_ACTION_MODE": "docker", **LOOP}, "OW_ACTION_MODE must be 'loop' or 'native', not 'docker'."),
        ({}, "OW_LAUNCHER must name the launcher command for loop mode."),
        ({"OW_LAUNCHER": "  "}, "OW_LAUNCHER must name the launcher command for loop mode."),
    ],
    ids=["unknown-mode", "no-launcher", "blank-launcher"],
)
def test_invalid_settings_are_refused_with_a_sentence(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        ProxyConfig.from_env(environ)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("TRUE", True),
     ("0", False), ("false", False), ("yes", False), ("", False)],
)
def test_proxy_allow_reinit(value: str, expected: bool) -> None:
    assert ProxyConfig.from_env({**LOOP, "PROXY_ALLOW_REINIT": value}).allow_reinit is expected


@pytest.mark.parametrize(
    ("supports", "flag", "expected", "threads"),
    [
        ("true", "true", True, 128),
        ("TRUE", "True", True, 128),
        ("true", "false", False, 4),
        ("true", None, False, 4),
        ("false", "true", False, 4),
        (None, "true", False, 4),
    ],
)
def test_concurrency_needs_the_runtime_and_the_container_flag(
    supports: str | None, flag: str | None, expected: bool, threads: int
) -> None:
    environ = dict(LOOP)
    if supports is not None:
        environ["OW_SUPPORTS_CONCURRENCY"] = supports
    if flag is not None:
        environ["__OW_ALLOW_CONCURRENT"] = flag
    config = ProxyConfig.from_env(environ)
    assert (config.allow_concurrent, config.threads) == (expected, threads)


def test_threads_can_be_set() -> None:
    assert ProxyConfig.from_env({**LOOP, "OW_PROXY_THREADS": "16"}).threads == 16


def test_base_env_is_a_copy_of_the_environment() -> None:
    environ = {**LOOP, "__OW_API_HOST": "https://api.example"}
    config = ProxyConfig.from_env(environ)
    environ["LATER"] = "1"
    assert config.base_env == {**LOOP, "__OW_API_HOST": "https://api.example"}


def test_config_is_frozen() -> None:
    config = ProxyConfig.from_env(LOOP)
    with pytest.raises(AttributeError):
        config.mode = "native"  # type: ignore[misc]
