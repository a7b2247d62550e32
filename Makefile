# tracelake — see README.md. Every target that runs Node uses Node >= 22 (scripts/node.sh brings Node 24
# into .cache/ when the machine's is older).
SHELL := /bin/bash
WITH_NODE = PATH="$$(scripts/node.sh):$$PATH"
TEST_FILES ?= 'test/unit/**/*.test.ts' 'test/integration/**/*.test.ts'

.PHONY: help deps up down status clean typecheck test test-unit test-integration demo demo-langfuse bench-connector bench-sink bench-burst

help:
	@echo "make demo     run the main job on the local stack (stack up, trace rows in, rows shown)"
	@echo "make demo-langfuse   the same for Langfuse v4: traces from ClickHouse's events_full into llm_spans"
	@echo "make demo-exports    Langfuse blob-storage export runs from an S3 bucket (SeaweedFS) into llm_spans"
	@echo "make test     unit + integration tests (brings the local stack up when it is not)"
	@echo "make up|down|status|clean   manage the local stack (clean deletes its data)"

deps: node_modules/.deps-installed
node_modules/.deps-installed: package.json package-lock.json
	@# not "npm ci": the lockfile lacks one optional Windows package of @databricks/sql that the registry does not have,
	@# which "npm ci" rejects; "npm install --no-save" installs exactly the locked versions and leaves the lockfile alone
	@$(WITH_NODE) npm install --no-save --no-audit --no-fund --loglevel=error
	@touch $@

up: deps
	@scripts/stack.sh up
down:
	@scripts/stack.sh down
status:
	@scripts/stack.sh status
clean:
	@scripts/stack.sh clean

typecheck: deps
	@$(WITH_NODE) node_modules/.bin/tsc -p tsconfig.json --noEmit

test-unit: deps
	@$(WITH_NODE) scripts/run-tests.sh 'test/unit/**/*.test.ts'

test-integration: up
	@$(WITH_NODE) scripts/run-tests.sh 'test/integration/**/*.test.ts'

# One runner invocation for every suite, so there is one summary line: "N passed, N failed".
test: typecheck up
	@$(WITH_NODE) scripts/run-tests.sh $(TEST_FILES)

demo: up
	@$(WITH_NODE) node scripts/demo.ts

demo-langfuse: up
	@$(WITH_NODE) node scripts/demo-langfuse.ts

.PHONY: demo-exports
demo-exports: up
	@$(WITH_NODE) node scripts/demo-exports.ts

# Benchmarks (the stack must be idle: numbers are appended to docs/benchmarks.md)
bench-connector: up
	@$(WITH_NODE) node bench/connector-throughput.ts
bench-sink: up
	@$(WITH_NODE) node bench/sink-merge.ts
# one 1M-row transaction through connector and sink: peak RSS of each (ROWS=n sets the size)
bench-burst: up
	@$(WITH_NODE) node bench/burst.ts $(if $(ROWS),--rows $(ROWS))
# the ClickHouse source (issue 21, docs/sources/clickhouse.md): freshness at 1k rows/s through connector and sink,
# and rows read per poll on a 10M-row events_full (ClickHouse starts on demand; it runs one query at a time, so
# nothing else may use it meanwhile). ROWS=n (table rows), DURATION=s (write time), RATE=n (rows/s) set the sizes.
.PHONY: bench-clickhouse
bench-clickhouse: up
	@$(WITH_NODE) node bench/clickhouse-source.ts $(if $(ROWS),--rows $(ROWS)) $(if $(DURATION),--seconds $(DURATION)) $(if $(RATE),--rate $(RATE))

# deploy/ (docs/deploy.md): the chart, image and compose checks alone (no local stack needed; helm and
# kubeconform are built into .cache/deploy on first use), and the chart's values schema regenerated from the
# services' config schemas.
.PHONY: test-deploy helm-schema
test-deploy: deps
	@$(WITH_NODE) scripts/run-tests.sh 'test/unit/deploy/*.test.ts' 'test/integration/deploy/*.test.ts'
helm-schema: deps
	@$(WITH_NODE) node scripts/gen-helm-schema.ts

# Our connector next to Debezium's PostgreSQL connector on Kafka Connect (scripts/bench/debezium.sh installs it
# from Maven Central into .cache/debezium on first use); results appended to docs/benchmarks.md.
# bench-snapshot ROWS=n sets the table size (default 500000).
.PHONY: bench-debezium bench-snapshot
bench-debezium: up
	@$(WITH_NODE) node bench/debezium-compare.ts
bench-snapshot: up
	@$(WITH_NODE) node bench/snapshot-compare.ts $(if $(ROWS),--rows $(ROWS))

# Files generated from the code (unit tests fail when a committed copy is stale): docs/configuration.md,
# docs/type-mapping.md, the Helm values schema.
.PHONY: generate
generate: deps helm-schema
	@$(WITH_NODE) node scripts/gen-docs.ts

# The long fault-injection run (docs/runbook.md): SEED=n replays a sequence, FAULTS=n sets its length
# (default 24). The short variant is part of make test (test/integration/chaos).
.PHONY: chaos
chaos: up
	@$(WITH_NODE) SEED=$(SEED) FAULTS=$(FAULTS) node test/chaos/main.ts

# the object-storage source (issue 22, docs/sources/object-storage.md): Langfuse export files → Kafka against a
# GET-and-parse ceiling, and manifest → Delta (SeaweedFS starts on demand). ROWS=n sets the file size in rows.
.PHONY: bench-object-storage
bench-object-storage: up
	@$(WITH_NODE) node bench/object-storage.ts $(if $(ROWS),--rows $(ROWS))
