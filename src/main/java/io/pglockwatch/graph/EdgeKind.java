package io.pglockwatch.graph;

/** Why a waiter waits for a blocker, as pg_blocking_pids() distinguishes it. */
public enum EdgeKind {

	/** The blocker holds a lock that conflicts with the requested mode. */
	HARD,

	/**
	 * The blocker holds nothing in the way but waits ahead in the same queue for a conflicting mode: the
	 * SELECTs queued behind a waiting ALTER TABLE.
	 */
	SOFT

}
