#!/usr/bin/env bash
# How long the ALTER TABLE incident's queue lives with the guard enforcing its defaults. Prints a table.
# Usage: bench/guard-queue-lifetime.sh [rounds]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -ntp test-compile
mvn -q -B -ntp exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.pglockwatch.bench.GuardQueueLifetimeBenchmark \
  -Dexec.args="${1:-3}" \
  -Djava.io.tmpdir="$PWD/target" -Dpglockwatch.test.pg-binaries-dir="$PWD/target/pg-binaries"
