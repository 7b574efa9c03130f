#!/usr/bin/env bash
# Fleet: one pg-lockwatch instance polling 100, 300 and 1,000 targets every second (the service's defaults, burst
# polling included), quiet and with a DDL lock queue every target sees, all sizes in one run, one table. Prints
# polls/s, poll start delay p50/p99/max, poll duration, ticks skipped, poll failures, instance and PostgreSQL CPU,
# heap, resident memory, live threads and poll workers, and the monitor's sessions open on the servers.
#
# Targets: databases of 4 embedded PostgreSQL servers started on this machine (the test servers' settings:
# max_connections 1100, shared_buffers 128MB, fsync off), 10 databases each, target t on server t % 4: 1,000
# targets are 250 per server, each with its own sessions. -Dbench.servers=N and -Dbench.databases=N change that.
# Heap: -Xmx576m, what the Helm chart's default memory limit (768Mi, heap 75%) gives; FLEET_HEAP overrides it.
#
# Usage: bench/fleet.sh [targets...]   (default 100 300 1000; about 80 s per size and case, 8-9 min in all)
#   BENCH_OPTS="-Dbench.window-seconds=90" bench/fleet.sh               (a longer measuring window; default 45 s)
#   BENCH_OPTS="-Dbench.servers=1" bench/fleet.sh 1000                  (all targets on one server)
#   BENCH_OPTS="-Dpglockwatch.poll.burst-interval=0" bench/fleet.sh     (any service setting, here: no bursts)
#   FLEET_HEAP=-Xmx1g bench/fleet.sh 1000
set -euo pipefail
cd "$(dirname "$0")/.."
echo "uptime: $(uptime)"
mvn -q -B -ntp test-compile
MAVEN_OPTS="${MAVEN_OPTS:-} ${FLEET_HEAP:--Xmx576m}" mvn -q -B -ntp exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.pglockwatch.bench.FleetBenchmark \
  -Dexec.args="${*:-100 300 1000}" \
  ${BENCH_OPTS:-} -Djava.io.tmpdir="$PWD/target" -Dpglockwatch.test.pg-binaries-dir="$PWD/target/pg-binaries"
echo "uptime: $(uptime)"
