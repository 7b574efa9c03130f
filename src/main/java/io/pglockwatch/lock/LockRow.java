package io.pglockwatch.lock;

import java.time.Instant;

/**
 * One row of pg_locks on a contended object (an object somebody waits for).
 *
 * @param pid the backend, or 0 for a prepared transaction
 * @param virtualTransaction pg_locks.virtualtransaction, which names a prepared transaction's dummy backend
 * @param waitStart when the wait began (null while granted, and for a moment after a wait starts)
 */
public record LockRow(int pid, String virtualTransaction, LockObject object, LockMode mode, boolean granted,
		Instant waitStart) {
}
