#!/usr/bin/env bash
# A burst of concurrent API requests with HTTP Basic (a bcrypt check each) against the same burst with a bearer
# token, while the service polls an embedded PostgreSQL every second. Prints request latency and whether the polls
# stayed on time (start delay, overruns) during each burst.
# Usage: bench/basic-auth-burst.sh [requests]   (default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -ntp test-compile
mvn -q -B -ntp exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.pglockwatch.bench.BasicAuthBurstBenchmark \
  -Dexec.args="${1:-200}" \
  -Djava.io.tmpdir="$PWD/target" -Dpglockwatch.test.pg-binaries-dir="$PWD/target/pg-binaries"
