#!/usr/bin/env bash
# Graph and detection micro-benchmarks (JMH, io.pglockwatch.bench.GraphBenchmark): on a synthetic bad day of
# 1,000 / 10,000 / 20,000 sessions with twice as many lock rows (SyntheticSnapshots: 50 DDL queues at 10,000,
# row-lock chains, advisory waits, parallel workers, deadlocks), the average time of LockWaitGraph.of, Detector.detect,
# IncidentLifecycle.advance (first poll and a later one) and GraphView.of. Goal: the graph in <= 10 ms at 10,000
# sessions / 20,000 rows. Pure JVM, no PostgreSQL. Prints JMH's result table (about 8 minutes with the defaults).
# Usage: bench/graph-jmh.sh [benchmark regexp] [JMH options]   an option given replaces its default:
#        bench/graph-jmh.sh -f 1 -wi 3 -i 3                 (a quicker run)
#        bench/graph-jmh.sh buildGraph -p sessions=10000    (one benchmark at one size)
#        bench/graph-jmh.sh -p sessions=10000 -prof gc      (with allocation per operation)
#        bench/graph-jmh.sh -h                              (JMH's options)
set -euo pipefail
cd "$(dirname "$0")/.."
benchmarks=GraphBenchmark
if [[ $# -gt 0 && $1 != -* ]]; then
  benchmarks="GraphBenchmark.*$1"
  shift
fi
# JMH rejects an option given twice: a default is dropped when the caller gives the same option
# 8 warm-up iterations: on 2 shared cores C2 needs a few seconds before the build settles
defaults=(-f 2 -wi 8 -i 5 -w 1s -r 1s -tu ms -bm avgt)
jmh_args=()
for ((n = 0; n < ${#defaults[@]}; n += 2)); do
  [[ " $* " == *" ${defaults[n]} "* ]] || jmh_args+=("${defaults[n]}" "${defaults[n + 1]}")
done
mvn -q -B -ntp test-compile
mvn -q -B -ntp -Dstyle.color=never exec:exec -Dexec.classpathScope=test -Dexec.executable=java \
  -Dexec.args="-cp %classpath org.openjdk.jmh.Main $benchmarks ${jmh_args[*]} $*"
