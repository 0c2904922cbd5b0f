# DeliverTrack. `make run` builds and starts it: embedded (nothing installed but Node, data in ./data)
# unless DATABASE_URL, REDIS_URL and AMQP_URL are set; `make run-services` uses the local services.
# `make test` runs the whole suite against PostgreSQL, Redis and RabbitMQ (installed and started if missing).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Development defaults; override on the command line or in the environment.
export ADMIN_EMAIL ?= admin@example.com
export ADMIN_PASSWORD ?= admin-password

.PHONY: help install build build-web run run-services dev migrate services test typecheck lint deps bench-api clean

help:
	@echo "make run      build and start DeliverTrack on http://127.0.0.1:3000: embedded, with demo data (DEMO=0 to skip)"
	@echo "make run-services  the same against local PostgreSQL, Redis and RabbitMQ, with a worker (RUN_WORKER_ROLES) and dispatch (RUN_DISPATCH)"
	@echo "make test     type-check, lint, check the import rules (make deps) and run every test, the RabbitMQ cluster failover last"
	@echo "make dev      start the gateway from source (tsx)"
	@echo "make migrate  apply database migrations"
	@echo "make bench-api  run the API benchmark (writes docs/benchmarks.md)"
	@echo "make demo     simulate trucks with IoT trackers and carrier trackings from the sandbox provider (uses the running gateway, or starts one)"
	@echo "make bench-ingest  run the location ingest benchmark (writes docs/benchmarks.md)"

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

install: node_modules/.package-lock.json

build: install
	npm run build

# The web console (web/dist, served by the gateway at /); the browser tests need it.
build-web: install
	npm run build:web

services:
	@bash scripts/ensure-services.sh

run: build
	bash scripts/run.sh

run-services: build services
	RUN_MODE=services bash scripts/run.sh

dev: install services
	npm run dev

migrate: build
	npm run migrate

typecheck: install
	npm run typecheck

lint: install
	npm run lint

# The import rules between folders (each internal/*/README.md's "May import:" line).
deps: install
	npm run depcruise

# npm test type-checks and compiles the server's code and tests (build:test) before running them;
# test:cluster then kills a node of a three-node RabbitMQ cluster it starts beside the local one.
test: install services lint deps build-web
	npm run typecheck:web
	npm test
	npm run test:cluster

bench-api: build services
	npm run bench:api

.PHONY: demo bench-ingest
demo: build
	bash scripts/demo.sh

bench-ingest: build services
	BENCH_SKIP_BUILD=1 npm run bench:ingest

clean:
	rm -rf dist .tap coverage web/dist
