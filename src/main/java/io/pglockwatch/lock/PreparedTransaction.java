package io.pglockwatch.lock;

import java.time.Instant;

/**
 * A prepared (two-phase) transaction that holds locks: it has no backend, so pg_locks shows its rows with a
 * null pid and pg_blocking_pids reports it as 0.
 */
public record PreparedTransaction(String virtualTransaction, String gid, String owner, String database,
		Instant prepared) {
}
