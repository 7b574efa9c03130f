#!/usr/bin/env bash
# Readers during a blocked migration: an idle transaction holds a lock on users for 10 s while a Flyway migration runs
# ALTER TABLE users ADD COLUMN, and readers run SELECT count(*) FROM users 50 times a second (latency measured from when
# each read was due). Cases, in one run, each on a fresh database of one embedded PostgreSQL 18: plain Flyway, the
# usual remedy (lock_timeout 2s and a retry 1 s after each timeout), the gate with its defaults (its pre-check waits
# while the holder is there) and the gate without the pre-check (it tries, and cancels itself at max-victim-wait).
# Usage: bench/gate-readers.sh [plain] [lock_timeout] [gate] [gate-no-precheck]
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -ntp -f gate/pom.xml test-compile
mvn -q -B -ntp -f gate/pom.xml exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.pglockwatch.gate.bench.ReaderLatencyBenchmark \
  -Dexec.args="${*:-plain lock_timeout gate gate-no-precheck}" -Djava.io.tmpdir="$PWD/gate/target"
