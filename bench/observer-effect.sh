#!/usr/bin/env bash
# Observer effect: pgbench (TPC-B-like writes, 4 clients) with 500 sessions queued behind a waiting ALTER TABLE in the
# same database, unobserved vs observed by pg-lockwatch polling every 1 s, interleaved rounds (AB BA ...), on an
# embedded PostgreSQL. Prints a table. Goal: observed >= 98% of unobserved tps.
# Usage: bench/observer-effect.sh [rounds] [seconds-per-phase] [pinned|shared] [queued]   (default 5 20, pinned where taskset
# exists: PostgreSQL and pgbench on CPU 0, pg-lockwatch on CPU 1, as with the monitor on a machine of its own)
# Needs pgbench: PGBENCH=/path/to/pgbench, else the one on the PATH or under /usr/lib/postgresql/*/bin, else it is
# installed with apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

# a candidate only counts if it runs: Debian's /usr/bin/pgbench is a wrapper that fails without a versioned binary
find_pgbench() {
  local candidate
  for candidate in "$(command -v pgbench || true)" $(ls -1d /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | sort -rV); do
    if [ -n "$candidate" ] && "$candidate" --version >/dev/null 2>&1; then
      echo "$candidate"
      return
    fi
  done
}

PGBENCH="${PGBENCH:-$(find_pgbench)}"
if [ -z "$PGBENCH" ]; then
  echo "observer-effect: pgbench not found (PATH, /usr/lib/postgresql/*/bin); installing it with apt-get" >&2
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "observer-effect: no apt-get here; install pgbench (PostgreSQL client tools) and rerun, or set PGBENCH=/path/to/pgbench" >&2
    exit 1
  fi
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  # newer Debian packages ship pgbench in postgresql-client-NN; Debian 12 (PostgreSQL 15) in the server package
  # postgresql-15 (dpkg -S /usr/lib/postgresql/15/bin/pgbench), so that is the fallback
  $SUDO apt-get install -y -qq postgresql-client >&2 || true
  PGBENCH="$(find_pgbench)"
  if [ -z "$PGBENCH" ]; then
    echo "observer-effect: postgresql-client has no pgbench here; installing the postgresql package that ships it" >&2
    $SUDO apt-get install -y -qq --no-install-recommends postgresql >&2
    PGBENCH="$(find_pgbench)"
  fi
  if [ -z "$PGBENCH" ]; then
    echo "observer-effect: still no working pgbench after apt-get; set PGBENCH=/path/to/pgbench" >&2
    exit 1
  fi
fi

echo "nproc: $(nproc); uptime before: $(uptime)"
mvn -q -B -ntp test-compile
status=0
mvn -q -B -ntp exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.pglockwatch.bench.ObserverEffectBenchmark \
  -Dexec.args="${1:-5} ${2:-20} ${3:-} ${4:-}" \
  -Dobserver-effect.pgbench="$PGBENCH" \
  -Djava.io.tmpdir="$PWD/target" -Dpglockwatch.test.pg-binaries-dir="$PWD/target/pg-binaries" || status=$?
echo "uptime after: $(uptime)"
exit $status
