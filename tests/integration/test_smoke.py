from tests.integration.conftest import PYTHON_IMAGE, read_streams


def test_python_echo_round_trip(start_container):
    container = start_container(PYTHON_IMAGE)
    assert container.init("def main(args):\n    return {'echo': args}\n") == (200, {"ok": True})
    assert container.run({"a": 1}) == (200, {"echo": {"a": 1}})
    assert read_streams(container) == ("", "")
