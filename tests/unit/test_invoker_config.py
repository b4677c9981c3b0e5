"""The invoker's settings from ``WHISKRUN_*`` variables, read from a mapping (never os.environ)."""

from dataclasses import fields
from typing import Any

import pytest

from whiskrun.errors import UsageError
from whiskrun.invoker.config import InvokerConfig
from whiskrun.invoker.scheduling import StemCellSpec


def test_no_variables_give_the_defaults() -> None:
    config = InvokerConfig.from_env({"PATH": "/usr/bin", "WHISKRUN": "x", "USER_MEMORY_MB": "1"})
    assert config == InvokerConfig()
    assert (config.user_memory_mb, config.pause_grace_s, config.idle_timeout_s, config.queue_limit) == (
        2048, 10.0, 600.0, 100)
    assert config.prewarm == (StemCellSpec("python:3.11", 256, 1), StemCellSpec("nodejs:18", 256, 1))


@pytest.mark.parametrize("variable, text, field, value", [
    ("WHISKRUN_USER_MEMORY_MB", "512", "user_memory_mb", 512),
    ("WHISKRUN_USER_MEMORY_MB", "0", "user_memory_mb", 0),
    ("WHISKRUN_PAUSE_GRACE_S", "0.5", "pause_grace_s", 0.5),
    ("WHISKRUN_IDLE_TIMEOUT_S", "60", "idle_timeout_s", 60.0),
    ("WHISKRUN_QUEUE_LIMIT", "3", "queue_limit", 3),
    ("WHISKRUN_LOG_WAIT_S", "0.25", "log_wait_s", 0.25),
    ("WHISKRUN_TICK_S", "1", "tick_s", 1.0),
    ("WHISKRUN_STARTUP_TIMEOUT_S", "5", "startup_timeout_s", 5.0),
    ("WHISKRUN_PIDS_LIMIT", "64", "pids_limit", 64),
    ("WHISKRUN_USE_RUNC", "false", "use_runc", False),
    ("WHISKRUN_USE_RUNC", "0", "use_runc", False),
    ("WHISKRUN_USE_RUNC", "No", "use_runc", False),
    ("WHISKRUN_USE_RUNC", "off", "use_runc", False),
    ("WHISKRUN_USE_RUNC", "TRUE", "use_runc", True),
    ("WHISKRUN_USE_RUNC", "1", "use_runc", True),
    ("WHISKRUN_USE_RUNC", "yes", "use_runc", True),
    ("WHISKRUN_USE_RUNC", "on", "use_runc", True),
    ("WHISKRUN_API_HOST", "https://api.example:443", "api_host", "https://api.example:443"),
    ("WHISKRUN_OWNER", "ci-42", "owner", "ci-42"),
    ("WHISKRUN_PREWARM", "", "prewarm", ()),
    ("WHISKRUN_PREWARM", "python:3.11@256=2", "prewarm", (StemCellSpec("python:3.11", 256, 2),)),
    ("WHISKRUN_PREWARM", " nodejs:18@128=1 , python:3.11@512=0,", "prewarm",
     (StemCellSpec("nodejs:18", 128, 1), StemCellSpec("python:3.11", 512, 0))),
], ids=lambda value: value if isinstance(value, str) and value.startswith("WHISKRUN_") else None)
def test_each_variable_sets_its_setting(variable: str, text: str, field: str, value: Any) -> None:
    config = InvokerConfig.from_env({variable: text})
    assert getattr(config, field) == value
    assert type(getattr(config, field)) is type(value)
    untouched = {f.name: getattr(InvokerConfig(), f.name) for f in fields(InvokerConfig) if f.name != field}
    assert {name: getattr(config, name) for name in untouched} == untouched


@pytest.mark.parametrize("variable, text, message", [
    pytest.param("WHISKRUN_USER_MEMORY_MB", "lots",
                 "WHISKRUN_USER_MEMORY_MB='lots' is not valid: invalid literal for int() with base 10: 'lots'.",
                 id="not-a-number"),
    pytest.param("WHISKRUN_QUEUE_LIMIT", "1.5",
                 "WHISKRUN_QUEUE_LIMIT='1.5' is not valid: invalid literal for int() with base 10: '1.5'.",
                 id="not-an-integer"),
    pytest.param("WHISKRUN_QUEUE_LIMIT", "-1", "WHISKRUN_QUEUE_LIMIT='-1' is not valid: must not be negative.",
                 id="negative-int"),
    pytest.param("WHISKRUN_PAUSE_GRACE_S", "-0.5",
                 "WHISKRUN_PAUSE_GRACE_S='-0.5' is not valid: must not be negative.", id="negative-float"),
    pytest.param("WHISKRUN_TICK_S", "soon", "WHISKRUN_TICK_S='soon' is not valid: could not convert string to float: "
                 "'soon'.", id="not-a-float"),
    pytest.param("WHISKRUN_TICK_S", "nan", "WHISKRUN_TICK_S='nan' is not valid: must be a number.",
                 id="not-a-number-float"),
    pytest.param("WHISKRUN_USE_RUNC", "maybe", "WHISKRUN_USE_RUNC='maybe' is not valid: must be true or false.",
                 id="not-a-flag"),
    pytest.param("WHISKRUN_PREWARM", "python",
                 "WHISKRUN_PREWARM='python' is not valid: 'python' is not KIND@MEMORY_MB=COUNT "
                 "(for example python:3.11@256=1).", id="prewarm-without-memory"),
    pytest.param("WHISKRUN_PREWARM", "python:3.11@256=1,nodejs:18@big=1",
                 "WHISKRUN_PREWARM='python:3.11@256=1,nodejs:18@big=1' is not valid: 'nodejs:18@big=1' is not "
                 "KIND@MEMORY_MB=COUNT (for example python:3.11@256=1).", id="prewarm-names-the-bad-item"),
    pytest.param("WHISKRUN_PREWARM", "@256=1",
                 "WHISKRUN_PREWARM='@256=1' is not valid: '@256=1' is not KIND@MEMORY_MB=COUNT "
                 "(for example python:3.11@256=1).", id="prewarm-without-kind"),
    pytest.param("WHISKRUN_PREWARM", "python:3.11@256=-1",
                 "WHISKRUN_PREWARM='python:3.11@256=-1' is not valid: 'python:3.11@256=-1' is not "
                 "KIND@MEMORY_MB=COUNT (for example python:3.11@256=1).", id="prewarm-negative-count"),
])
def test_a_bad_value_is_one_sentence_naming_the_variable(variable: str, text: str, message: str) -> None:
    with pytest.raises(UsageError) as refused:
        InvokerConfig.from_env({variable: text})
    assert str(refused.value) == message
    assert isinstance(refused.value.__cause__, ValueError)


def test_every_setting_is_described_for_help() -> None:
    names = [item.name for item in fields(InvokerConfig)]
    assert list(InvokerConfig.HELP) == names
    described = InvokerConfig.describe().splitlines()
    assert [line.split(":", 1)[0] for line in described] == [f"WHISKRUN_{name.upper()}" for name in names]
    assert all(line.split(": ", 1)[1].endswith(".") for line in described)


def test_the_config_is_frozen() -> None:
    with pytest.raises(AttributeError):
        InvokerConfig().queue_limit = 5  # type: ignore[misc]
