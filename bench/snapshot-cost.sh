#!/usr/bin/env bash
# Snapshot cost: N sessions queued behind a waiting ALTER TABLE on an embedded PostgreSQL (max_connections 1100);
# per N the service's full snapshot (read + graph) beside the floor (pg_locks + pg_stat_activity in one joined
# read), pg_blocking_pids() once per waiter and the classic self-join of pg_locks, interleaved in one run.
# Prints two tables (server time, client wall time) and whether the edges equal pg_blocking_pids().
# Usage: bench/snapshot-cost.sh [N...]   (default 100 250 500 1000)
#        PGLOCKWATCH_TEST_PG_VERSION=14 bench/snapshot-cost.sh   (PostgreSQL 14 instead of 18)
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -ntp test-compile
mvn -q -B -ntp exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.pglockwatch.bench.SnapshotCostBenchmark \
  -Dexec.args="${*:-100 250 500 1000}" \
  ${BENCH_OPTS:-} -Djava.io.tmpdir="$PWD/target" -Dpglockwatch.test.pg-binaries-dir="$PWD/target/pg-binaries"
