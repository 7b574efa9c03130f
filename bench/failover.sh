#!/usr/bin/env bash
# Failover: two replicas of pg-lockwatch, each a process of its own, on one PostgreSQL store (embedded PostgreSQL,
# which is also the watched target), the leader stopped mid-incident, alternately with SIGKILL and SIGTERM. Per stop
# kind: the time from the stop to the other replica leading (min / median / max), and triggers, resolves and
# incidents per situation at a local stand-in for PagerDuty and in the store (all must be 1). Prints a table; exits
# non-zero when anything was paged or resolved twice or a second incident was opened. Replica logs: target/replicas/.
# Usage: bench/failover.sh [rounds] [lease]   (default 10 10s; a SIGKILL round waits up to the lease, so about 5
# minutes for 10 rounds)
# Runs as a plain JVM on the test classpath (exec:exec, not exec:java), so that the replicas it starts get that
# classpath too.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -ntp test-compile
echo "nproc: $(nproc); uptime before: $(uptime); commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')"
mvn -q -B -ntp -Dstyle.color=never exec:exec -Dexec.classpathScope=test -Dexec.executable=java \
  -Dexec.args="-Xmx512m -Djava.io.tmpdir=$PWD/target -Dpglockwatch.test.pg-binaries-dir=$PWD/target/pg-binaries \
-cp %classpath io.pglockwatch.bench.FailoverBenchmark ${1:-10} ${2:-10s}"
