package io.pglockwatch.graph;

import java.util.List;

import io.pglockwatch.lock.PreparedTransaction;
import io.pglockwatch.lock.SessionActivity;

/**
 * A backend in the wait graph.
 *
 * @param id the backend's pid, or a negative number for a prepared transaction (PostgreSQL reports every
 * prepared transaction as pid 0, so pid alone would merge them)
 * @param activity pg_stat_activity of the backend (null for a prepared transaction, or a backend that ended
 * between the reads)
 * @param prepared the prepared transaction this node stands for, else null
 * @param parallelWorkers pids of parallel workers folded into this leader
 * @param waits what it waits for (empty when it waits for no lock); a leader with waiting workers can wait
 * for more than one object
 */
public record SessionNode(int id, SessionActivity activity, PreparedTransaction prepared,
		List<Integer> parallelWorkers, List<LockWait> waits) {

	/** The pid PostgreSQL uses for this node: 0 for a prepared transaction. */
	public int pid() {
		return pidOf(this.id);
	}

	/**
	 * The pid PostgreSQL uses for the node {@code id} (as in {@link WaitEdge} or {@link DdlQueue}): 0 for a prepared
	 * transaction, as in pg_blocking_pids().
	 */
	public static int pidOf(int id) {
		return Math.max(0, id);
	}

	/** The prepared transaction's global id; null for a backend. */
	public String gid() {
		return this.prepared == null ? null : this.prepared.gid();
	}

	public boolean isWaiting() {
		return !this.waits.isEmpty();
	}

	public String state() {
		return this.activity == null ? (this.prepared != null ? "prepared" : null) : this.activity.state();
	}

	public boolean isIdleInTransaction() {
		String state = state();
		return state != null && state.startsWith("idle in transaction");
	}

}
