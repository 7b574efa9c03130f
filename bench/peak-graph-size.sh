#!/usr/bin/env bash
# Size of an incident's stored peak graph by sessions in the graph (bad-day snapshots of 1,000 to 5,000 sessions).
# Prints a table. Usage: bench/peak-graph-size.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -ntp test-compile
mvn -q -B -ntp exec:java -Dexec.classpathScope=test -Dexec.mainClass=io.pglockwatch.bench.PeakGraphSizeBenchmark
