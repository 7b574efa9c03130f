#!/usr/bin/env bash
# The live poll against the bare reads: N sessions queued behind a waiting ALTER TABLE on an embedded PostgreSQL
# (max_connections 1100); per N and burst setting the service runs as a process of its own (both JIT tiers, 512 MB
# heap) watching that database with its defaults. After a warm-up, over a window, the mean of its own
# pglockwatch_poll_duration_seconds (delta of _sum / delta of _count from /actuator/prometheus) beside two bare reads
# (SELECT * FROM pg_stat_activity, SELECT * FROM pg_locks, one open connection, every row and column as text), interleaved, in
# the same run. Prints a table. Goal: live poll <= 2x the bare reads at N = 250, <= 1.5x at N = 1000.
# Usage: bench/live-poll-cost.sh [N...]   (default 250 1000; about 1 minute per N and burst setting)
#   WARMUP=20 WINDOW=25     seconds of warm-up and of the measured window
#   BURSTS=250ms,0          the burst intervals to measure (0: bursts off, one poll a second)
#   JFR=1                   also record the service with JFR during the window (method samples every 1 ms) and print
#                           where its poll threads spend their samples; recordings in target/live-poll/
# Runs as a plain JVM on the test classpath (exec:exec, not exec:java), so that the service process it starts gets
# that classpath too.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -ntp test-compile
echo "nproc: $(nproc); uptime before: $(uptime); commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')"
mvn -q -B -ntp -Dstyle.color=never exec:exec -Dexec.classpathScope=test -Dexec.executable=java \
  -Dexec.args="-Xmx768m -Djava.io.tmpdir=$PWD/target -Dpglockwatch.test.pg-binaries-dir=$PWD/target/pg-binaries \
-Dbench.warmup=${WARMUP:-20} -Dbench.window=${WINDOW:-25} -Dbench.bursts=${BURSTS:-250ms,0} -Dbench.jfr=$([ "${JFR:-0}" = 1 ] && echo true || echo false) \
-cp %classpath io.pglockwatch.bench.LivePollCostBenchmark ${*:-250 1000}"
echo "uptime after: $(uptime)"
