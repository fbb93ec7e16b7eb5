# Two entry points for a newcomer (see README): `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install worker beat bench mutation clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Embedded default: SQLite in ./var, Celery tasks in-process, demo accounts loaded.
demo: $(STAMP)
	env -u DATABASE_URL -u REDIS_URL DEBUG=true $(BIN)/python manage.py migrate --noinput
	env -u DATABASE_URL -u REDIS_URL DEBUG=true $(BIN)/python manage.py load_referentiel
	env -u DATABASE_URL -u REDIS_URL DEBUG=true $(BIN)/python manage.py seed_demo
	@echo "→ http://127.0.0.1:8000"
	env -u DATABASE_URL -u REDIS_URL DEBUG=true $(BIN)/python manage.py runserver 127.0.0.1:8000

# The whole suite: PostgreSQL and Redis when reachable (mandatory in CI), browser tests in
# Debian's chromium, archives opened with 7-Zip. See tests/run_suite.py.
test: $(STAMP)
	$(BIN)/python tests/run_suite.py $(ARGS)

worker: $(STAMP)
	$(BIN)/celery -A siao_ofii worker --loglevel=INFO

beat: $(STAMP)
	$(BIN)/celery -A siao_ofii beat --loglevel=INFO

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# Mutation testing (mutmut) of the modules that carry the law and the security, each against its
# targeted tests, on SQLite; kill ratio per module and surviving mutants. Not in CI (slow).
# `make mutation GROUPS="perimeter derive"` for some groups only (see tests/mutation/run.py).
mutation: $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,mutation]'
	nice -n 10 $(BIN)/python tests/mutation/run.py $(GROUPS)

clean:
	rm -rf $(VENV) var .cache
