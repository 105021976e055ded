# Two commands on a fresh machine: `make demo` runs the pipeline on the seed scenario, `make test` runs every test.
# Needs Python 3.11+, Java 17 and Maven on PATH; everything else is installed here, once, and reused.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha1sum | cut -c1-12)

.PHONY: setup demo test test-unit jars lock clean

setup: $(STAMP) jars

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "coi-risk needs Python 3.11+, found " + sys.version' 
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $@

jars: $(STAMP)
	$(BIN)/coi-risk broker fetch

demo: setup
	$(BIN)/coi-risk demo

test: setup
	$(BIN)/python -m pytest

test-unit: setup
	$(BIN)/python -m pytest tests/unit -q

# Regenerate the lock after changing dependencies in pyproject.toml.
lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^coi-risk' > requirements.lock

clean:
	rm -rf $(VENV) .run deploy/kafka/lib
