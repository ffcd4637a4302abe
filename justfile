# Flightdeck tasks. Run them through ./dev (it prepares the environment first).

set shell := ["bash", "-euo", "pipefail", "-c"]

python_sources := "libs/client/src libs/events/src libs/eventstore/src libs/runtime/src cli/src services sandbox/src"
packages := "-p flightdeck.client -p flightdeck.events -p flightdeck.eventstore -p flightdeck.runtime -p flightdeck.readmodel -p flightdeck.cli -p flightdeck.sandbox -p flightdeck.orchestrator -p flightdeck.k8s_watcher -p flightdeck.ecr_poller -p flightdeck.prober -p flightdeck.notifier -p flightdeck.log_relay -p flightdeck.gateway"

# List the tasks
default:
    @just --list

# Run the whole system on this machine (embedded NATS, every service); Ctrl-C stops it
demo:
    flightdeck up --demo

# Same as demo
up *args:
    flightdeck up {{args}}

# A program of the environment (./dev run flightdeck status); ./dev runs it directly
run *args:
    {{args}}

# Everything CI checks: lint, format, types, then every test (unit, integration, e2e)
test *args: lint typecheck
    python -m pytest -v -p no:cacheprovider {{args}}

# Only the fast pure tests
test-unit *args:
    python -m pytest -v -m unit {{args}}

# ruff lint and format check, and the layering contracts (pyproject's [tool.importlinter])
lint:
    ruff check .
    ruff format --check .
    lint-imports --no-logo

# Apply ruff's formatting and safe fixes
fmt:
    ruff check --fix .
    ruff format .

# The type checker over every package
typecheck:
    mypy {{packages}}

# Benchmarks (figures and ratios, measured side by side in one run; never pass/fail)
bench *args:
    python -m bench {{args}}
