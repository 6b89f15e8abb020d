# techmarket: `make run` serves the demo on http://127.0.0.1:$(PORT); `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
FLASK  := $(BIN)/flask --app wsgi

.PHONY: run test e2e install migrate seed lint format serve-dev clean serve-prod check-prod-env

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed

run: seed
	$(FLASK) matching ensure
	@echo "技术市场已启动：http://127.0.0.1:$(PORT)  （Ctrl+C 停止）"
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# Two pytest workers (pytest-xdist), one test file per worker at a time; each worker has its own database.
test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

# Only the browser walk (part of `make test` too); screenshots land in tests/e2e/artifacts/.
e2e: install
	$(BIN)/python -m pytest -m e2e tests/e2e

# Production (docs/deployment.md): migrate, then gunicorn with gunicorn.conf.py (WEB_CONCURRENCY ≥ 2 workers).
serve-prod: check-prod-env install
	APP_ENV=production $(FLASK) db upgrade
	APP_ENV=production exec $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

check-prod-env:
	@if [ -z "$$DATABASE_URL" ]; then echo "错误：未设置 DATABASE_URL 环境变量（例如 postgresql+psycopg://techmarket@127.0.0.1:5432/techmarket），拒绝以生产模式启动。见 docs/deployment.md。" >&2; exit 1; fi
	@if [ -z "$$SECRET_KEY" ]; then echo "错误：未设置 SECRET_KEY 环境变量（至少 32 个字符的随机字符串），拒绝以生产模式启动。见 docs/deployment.md。" >&2; exit 1; fi
	@if [ $${#SECRET_KEY} -lt 32 ]; then echo "错误：SECRET_KEY 至少需要 32 个字符，拒绝以生产模式启动。" >&2; exit 1; fi
	@if [ "$${WEB_CONCURRENCY:-2}" -lt 2 ]; then echo "错误：生产环境至少需要 2 个 gunicorn 工作进程（WEB_CONCURRENCY ≥ 2）。" >&2; exit 1; fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
