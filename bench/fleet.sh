#!/usr/bin/env bash
# Fleet: one pg-lockwatch instance polling 100, 300 and 1,000 targets every second (the service's defaults, burst
# polling included), quiet and with a DDL lock queue every target sees, all sizes in one run and one table. Prints
# per size and case: how long the instance took to settle, polls/s, poll start delay p50/p99/max, poll duration,
# ticks skipped, poll failures, instance and PostgreSQL CPU, heap, the JVM's resident memory, live threads and poll
# workers, and the monitor's sessions open on the servers.
#
# Targets: databases of 4 embedded PostgreSQL 18 servers on this machine (the test servers' settings:
# max_connections 1100, shared_buffers 128MB, fsync off), 10 databases each, target t on server t % 4, so 1,000
# targets are 250 sessions per server. The harness sets the servers' processes to nice 19 and
# pg_stat_statements.track to none (hundreds of monitor sessions on one server would all update one entry).
# -Dbench.servers=N, -Dbench.databases=N, -Dbench.postgres-nice=0 and -Dbench.track-statements=true change that.
# Heap: -Xmx576m, what the Helm chart's default memory limit (768Mi, heap 75%) gives; FLEET_HEAP overrides it.
# Order: an unreported 30 s JIT warm-up round (100 targets, DDL queue), then each size quiet and with the queue,
# each in a fresh instance, measured for 45 s once it has settled (every target 6 good polls, then 5 s with start
# delay p99 < 1 s and no tick skipped), at most 300 s after its start; "not in N" marks a size that never settled.
#
# Usage: bench/fleet.sh [targets...]   (default 100 300 1000; about 30 min when 1,000 targets do not settle)
#   BENCH_OPTS="-Dbench.window-seconds=90" bench/fleet.sh            (a longer measuring window; default 45 s)
#   BENCH_OPTS="-Dbench.cases=quiet -Dbench.max-settle-seconds=120" bench/fleet.sh 1000
#   BENCH_OPTS="-Dpglockwatch.poll.burst-interval=0" bench/fleet.sh  (any service setting, here: no bursts)
#   FLEET_HEAP=-Xmx768m bench/fleet.sh 1000
set -euo pipefail
cd "$(dirname "$0")/.."
echo "uptime: $(uptime)"
mvn -q -B -ntp test-compile
MAVEN_OPTS="${MAVEN_OPTS:-} ${FLEET_HEAP:--Xmx576m}" mvn -q -B -ntp exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.pglockwatch.bench.FleetBenchmark \
  -Dexec.args="${*:-100 300 1000}" \
  ${BENCH_OPTS:-} -Djava.io.tmpdir="$PWD/target" -Dpglockwatch.test.pg-binaries-dir="$PWD/target/pg-binaries"
echo "uptime: $(uptime)"
