#!/usr/bin/env bash
# Scale: one pg-lockwatch instance polling N targets every second (databases of one embedded PostgreSQL), quiet and
# with a DDL lock queue every target sees. Prints poll start delay p50/p99/max, poll duration, overruns, instance
# and PostgreSQL CPU, heap. Usage: bench/scale.sh [targets...]   (default 100 300)
#   BENCH_OPTS="-Dbench.window-seconds=90" bench/scale.sh 100   (a longer measuring window; default 45 s)
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -ntp test-compile
MAVEN_OPTS="${MAVEN_OPTS:-} -Xmx512m" mvn -q -B -ntp exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.pglockwatch.bench.ScaleBenchmark \
  -Dexec.args="${*:-100 300}" \
  ${BENCH_OPTS:-} -Djava.io.tmpdir="$PWD/target" -Dpglockwatch.test.pg-binaries-dir="$PWD/target/pg-binaries"
