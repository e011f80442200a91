# The two commands of the README: `make run` and `make test`. Both create .venv
# and install the pinned requirements first; nothing else needs to be installed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)

.PHONY: run test data check bench venv clean

venv: $(STAMP)

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/streamlit run dashboard.py --server.address 127.0.0.1 --browser.gatherUsageStats false

test: $(STAMP)
	$(BIN)/python -m pytest
	$(BIN)/python -m etl check

data: $(STAMP)
	$(BIN)/python -m etl build

check: $(STAMP)
	$(BIN)/python -m etl check

bench: $(STAMP)
	$(BIN)/python -m devtools.bench

clean:
	rm -rf $(VENV) .pytest_cache
