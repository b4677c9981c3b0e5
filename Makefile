# The two commands a new user needs: `make run` and `make test`.
# Both run the idempotent host setup first (root, Debian 12).
VENV ?= .venv
PYTEST_ARGS ?=

.PHONY: setup run test test-unit bench clean

setup:
	bash scripts/setup.sh

run: setup
	$(VENV)/bin/whiskrun run-sample wsk-samples/hello.py

test: setup
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

test-unit:
	$(VENV)/bin/python -m pytest tests/unit $(PYTEST_ARGS)

bench: setup
	$(VENV)/bin/python bench/runtime_images.py

clean:
	$(VENV)/bin/whiskrun cleanup
