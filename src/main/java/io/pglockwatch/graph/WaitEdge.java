package io.pglockwatch.graph;

import io.pglockwatch.lock.LockMode;

/**
 * {@code waiter} waits for {@code blocker}. Parallel workers are folded into their leader; a prepared
 * transaction is a node with a negative id (see {@link SessionNode#pid()}).
 */
public record WaitEdge(int waiterPid, int blockerPid, EdgeKind kind, String lockType, LockMode mode,
		String object) {
}
