# The two commands a new user needs: `make run` and `make test`.
# Both run the idempotent host setup first (root, Debian 12).
VENV ?= .venv
PYTEST_ARGS ?=
SERVE_ARGS ?=

.PHONY: setup run demo test test-unit bench clean

setup:
	bash scripts/setup.sh

# The main job: OpenWhisk's REST API on port 3233 with the guest key, as
# OpenWhisk standalone; point wsk or the openwhisk npm client at it (README).
# Ctrl-C stops it and removes its containers.
run: setup
	$(VENV)/bin/whiskrun serve $(SERVE_ARGS)

# The invoker alone on one sample: cold, then warm, then (its warm container
# gone after the idle timeout) restored from its CRIU snapshot.
demo: setup
	WHISKRUN_IDLE_TIMEOUT_S=2 $(VENV)/bin/whiskrun invoke wsk-samples/hello.py -p name world --repeat 3 --interval 3

test: setup
	bash scripts/setup-test-tools.sh
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

test-unit:
	$(VENV)/bin/python -m pytest tests/unit $(PYTEST_ARGS)

bench: setup
	$(VENV)/bin/python bench/runtime_images.py
	$(VENV)/bin/whiskrun bench --out bench/results
	$(VENV)/bin/whiskrun report $$(ls -d bench/results/whiskrun-bench-* | tail -1)
	$(VENV)/bin/python bench/restore_clones.py
	$(VENV)/bin/python bench/api_overhead.py
	$(VENV)/bin/python bench/api_stack.py
	$(VENV)/bin/python bench/events.py
	$(VENV)/bin/python bench/performance_md.py

clean:
	$(VENV)/bin/whiskrun cleanup
