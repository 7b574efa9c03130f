#!/usr/bin/env bash
# Detection latency: DDL lock queue formed -> PagerDuty trigger received, holder ended -> resolve received,
# with default settings, on an embedded PostgreSQL and a local stand-in for PagerDuty. Prints a table.
# Runs bursts off (poll.burst-interval=0, as before burst polling) then on (250ms, the default) in one run.
# Usage: bench/detection-latency.sh [rounds]   (default 10 per setting)
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -ntp test-compile
mvn -q -B -ntp exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.pglockwatch.bench.DetectionLatencyBenchmark \
  -Dexec.args="${1:-10}" \
  -Djava.io.tmpdir="$PWD/target" -Dpglockwatch.test.pg-binaries-dir="$PWD/target/pg-binaries"
