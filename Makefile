# Two entry points for a newcomer (see README): `make demo` and `make test`.
#
# PYTHON: any Python 3.11 or newer (python3.11 if present, else python3).
# PORT:   the demo's port (8000 by default): `PORT=8001 make demo`.
PYTHON ?= $(shell command -v python3.11 >/dev/null 2>&1 && python3.11 -c '' >/dev/null 2>&1 && echo python3.11 || echo python3)
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
# The virtual environment is rebuilt from scratch when the interpreter changes (its path and
# version are part of the stamp's name), when pyproject.toml changes, or when the previous
# install did not finish (no stamp is written then).
PY_ID := $(shell $(PYTHON) -c 'import sys; print(sys.version_info >= (3, 11) and "%s-%d.%d.%d" % (sys.executable, *sys.version_info[:3]) or "TOO-OLD")' 2>/dev/null | cksum | cut -d' ' -f1)
STAMP := $(VENV)/.installed-$(PY_ID)
# The demo: production settings (French error pages, no debug page) made for one computer.
DEMO_ENV := env -u DATABASE_URL -u REDIS_URL -u DJANGO_SETTINGS_MODULE DJANGO_SETTINGS_MODULE=siao_ofii.settings_demo PORT=$(PORT)
# `make demo REDIS_URL=redis://…` (on the command line) runs tasks on a real worker (`make worker`).
ifeq ($(origin REDIS_URL),command line)
DEMO_ENV += REDIS_URL=$(REDIS_URL)
endif

.PHONY: demo test install worker beat bench mutation clean python-check port-check

python-check:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null || { \
	  echo "!! Python 3.11 ou plus récent est nécessaire ($(PYTHON) ne convient pas)."; \
	  echo "!! Indiquez-en un : PYTHON=python3.12 make demo"; exit 1; }

$(STAMP): pyproject.toml | python-check
	@echo "→ Installation dans $(VENV) avec $(PYTHON)…"
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

port-check:
	@$(PYTHON) -c 'import socket, sys; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1])))' $(PORT) 2>/dev/null || { \
	  echo "!! Le port $(PORT) est déjà utilisé sur 127.0.0.1 (une autre démo tourne peut-être)."; \
	  echo "!! Arrêtez-la, ou choisissez un autre port : PORT=8001 make demo"; exit 1; }

# Embedded default: SQLite in ./var, Celery tasks in-process, demo accounts loaded.
demo: $(STAMP) port-check
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py load_referentiel
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo
	@echo "→ http://127.0.0.1:$(PORT)/  (arrêt : Ctrl+C)"
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# The whole suite: PostgreSQL and Redis when reachable (mandatory in CI), browser tests in
# Debian's chromium, archives opened with 7-Zip, the demo started from a fresh clone.
# See tests/run_suite.py.
test: $(STAMP)
	$(BIN)/python tests/run_suite.py $(ARGS)

# A real Celery worker and beat for the demo (Redis on 127.0.0.1:6379 unless REDIS_URL says
# otherwise); start the demo with `make demo REDIS_URL=redis://127.0.0.1:6379/0`.
worker beat: REDIS_URL ?= redis://127.0.0.1:6379/0
worker: $(STAMP)
	env -u DATABASE_URL DJANGO_SETTINGS_MODULE=siao_ofii.settings_demo REDIS_URL=$(REDIS_URL) $(BIN)/celery -A siao_ofii worker --loglevel=INFO

beat: $(STAMP)
	env -u DATABASE_URL DJANGO_SETTINGS_MODULE=siao_ofii.settings_demo REDIS_URL=$(REDIS_URL) $(BIN)/celery -A siao_ofii beat --loglevel=INFO

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# Mutation testing (mutmut) of the modules that carry the law and the security, each against its
# targeted tests, on SQLite; kill ratio per module and surviving mutants. Not in CI (slow).
# `make mutation GROUPS="perimeter derive"` for some groups only (see tests/mutation/run.py).
mutation: $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,mutation]'
	nice -n 10 $(BIN)/python tests/mutation/run.py $(GROUPS)

clean:
	rm -rf $(VENV) var .cache staticfiles test-artifacts *.egg-info
