package io.pglockwatch.graph;

import java.time.Duration;
import java.util.List;

import io.pglockwatch.lock.LockMode;

/**
 * A session waiting for a relation lock that blocks writes (Share or stronger) with sessions queued behind
 * it: the shape of the ALTER TABLE / CREATE INDEX outage. Only the head of a queue is reported: a DDL
 * queued behind another waiting DDL is part of that one's queue.
 *
 * @param pid the waiting DDL's node id
 * @param queueDepth every session that waits on the DDL, directly or transitively
 * @param rootBlockerPids the sessions at the far end: what the DDL ultimately waits for
 * @param queued the sessions behind it, nearest first, each with its position in the relation's wait queue
 */
public record DdlQueue(int pid, String relation, LockMode mode, Duration waited, int queueDepth,
		List<Integer> rootBlockerPids, List<Queued> queued) {

	/**
	 * @param position place in the DDL relation's wait queue (the DDL itself has one too), or 0 when the
	 * session waits on another object further down the chain
	 * @param distance edges between it and the DDL
	 */
	public record Queued(int pid, int position, int distance) {
	}

}
