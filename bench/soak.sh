#!/usr/bin/env bash
# Soak: months of incidents compressed into minutes. Runs the service jar as a child process (-Xmx256m) against an
# embedded PostgreSQL with fast pacing and incidents.max-count 400, drives <incidents> ALTER TABLE incidents (4 workers,
# each on its own table; one more incident held open for the whole run), and samples the store's size, its live data,
# heap after GC, threads and RSS every 30 s. Prints a sample table as it goes (CSV in target/soak/<store>/), then a
# summary per store with the slope of each figure over the last half of the run and PASS/FAIL against the goals.
# Usage: bench/soak.sh [incidents] [h2|postgresql|both]   (default 2000 both; about 12 minutes per store at 2000,
# 200 for a 3-minute check)
# Measures target/pg-lockwatch-*.jar, built from this tree; SOAK_JAR=/path/to/pg-lockwatch.jar measures another jar.
# Tuning: SOAK_WORKERS (4), SOAK_MAX_COUNT (400), SOAK_SAMPLE_SECONDS (30), SOAK_HOLD_MILLIS (0: how long each
# incident stays open after its webhook; longer incidents write more timeline points, but the run takes longer).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${SOAK_JAR:-}" ]; then
  mvn -q -B -ntp test-compile
else
  mvn -q -B -ntp package -DskipTests
fi
echo "nproc: $(nproc); uptime before: $(uptime); commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')"
status=0
mvn -q -B -ntp exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.pglockwatch.bench.SoakBenchmark \
  -Dexec.args="${1:-2000} ${2:-both}" \
  -Dpglockwatch.bench.jar="${SOAK_JAR:-}" \
  -Dbench.soak.workers="${SOAK_WORKERS:-4}" -Dbench.soak.max-count="${SOAK_MAX_COUNT:-400}" \
  -Dbench.soak.sample-seconds="${SOAK_SAMPLE_SECONDS:-30}" -Dbench.soak.hold-millis="${SOAK_HOLD_MILLIS:-0}" \
  -Djava.io.tmpdir="$PWD/target" -Dpglockwatch.test.pg-binaries-dir="$PWD/target/pg-binaries" || status=$?
echo "uptime after: $(uptime)"
exit $status
