# DeliverTrack. `make run` starts the gateway (installing and building what it needs);
# `make test` runs the whole suite. Both start local PostgreSQL/Redis/RabbitMQ if down.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Development defaults; override on the command line or in the environment.
export ADMIN_EMAIL ?= admin@example.com
export ADMIN_PASSWORD ?= admin-password

.PHONY: help install build run dev migrate services test typecheck lint bench-api clean

help:
	@echo "make run      build and start the gateway on http://127.0.0.1:3000"
	@echo "make test     type-check, lint and run every test"
	@echo "make dev      start the gateway from source (tsx)"
	@echo "make migrate  apply database migrations"
	@echo "make bench-api  run the API benchmark (writes docs/benchmarks.md)"

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

install: node_modules/.package-lock.json

build: install
	npm run build

services:
	@bash scripts/ensure-services.sh

run: build services
	npm start

dev: install services
	npm run dev

migrate: build services
	npm run migrate

typecheck: install
	npm run typecheck

lint: install
	npm run lint

test: install services typecheck lint
	npm test

bench-api: build services
	npm run bench:api

clean:
	rm -rf dist .tap coverage
