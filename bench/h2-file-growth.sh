#!/usr/bin/env bash
# The embedded H2 store's file next to its live data under the recorder's write pattern (incidents upserted on every
# poll, timeline points, a ~20 KB peak graph, outbox rows) with pruning to the newest N, for H2's defaults, MVStore
# settings in the URL, and a periodic compaction (online, StoreCompaction; or SHUTDOWN COMPACT in a suspended pool).
# Prints a table. Each case takes 1.5 to 3 minutes with the defaults.
# Usage: bench/h2-file-growth.sh [incidents] [keep] [prune-every] [poll-pause-ms] [case...]
#        (default 1500 300 50 4, all cases: defaults retention-0 retention-0-write-delay-0 auto-compact-100
#        compact-online shutdown-compact)
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -ntp test-compile
mvn -q -B -ntp exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.pglockwatch.bench.H2FileGrowthBenchmark \
  -Dexec.args="${*:-1500 300 50 4}" \
  ${BENCH_OPTS:-} -Djava.io.tmpdir="$PWD/target"
