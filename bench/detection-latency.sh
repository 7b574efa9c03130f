#!/usr/bin/env bash
# Detection latency: DDL lock queue formed -> PagerDuty trigger received, holder ended -> resolve received,
# with default settings, on an embedded PostgreSQL and a local stand-in for PagerDuty. Prints a table.
# Usage: bench/detection-latency.sh [rounds]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -ntp test-compile
mvn -q -B -ntp exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.pglockwatch.bench.DetectionLatencyBenchmark \
  -Dexec.args="${1:-5}" \
  -Djava.io.tmpdir="$PWD/target" -Dpglockwatch.test.pg-binaries-dir="$PWD/target/pg-binaries"
