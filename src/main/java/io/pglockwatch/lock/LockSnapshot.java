package io.pglockwatch.lock;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One consistent read of a target's lock state: the rows of pg_locks on every object that somebody waits
 * for, the pg_stat_activity rows of the sessions on them, and the names of the relations involved.
 *
 * @param takenAt the server's clock when the read ran; ages and waits are measured against it
 * @param monitorPid the monitor's own backend, so it can be checked never to block anyone
 * @param readAllStats the monitor's role can see every session's query and client (pg_monitor)
 * @param relationNames names by {@link #relationKey(long, long)}
 * @param databaseNames database names by oid
 * @param reportedBlockers pg_blocking_pids() of the few waiters whose place in the wait queue pg_locks
 * cannot tell (a waiter that already holds a lock on the object it waits for may stand ahead of earlier
 * waiters); empty in the common case
 * @param readDuration how long the read took on the wire
 * @param standby what the poll saw of replay when the server is a hot standby (in recovery); null on a primary
 */
public record LockSnapshot(String target, Instant takenAt, int serverVersionNum, int monitorPid, boolean readAllStats,
		List<LockRow> locks, Map<Integer, SessionActivity> sessions, Map<String, PreparedTransaction> prepared,
		Map<String, RelationName> relationNames, Map<Long, String> databaseNames,
		Map<Integer, Set<Integer>> reportedBlockers, Duration readDuration, Standby standby) {

	/** Whether the server is a hot standby. */
	public boolean inRecovery() {
		return this.standby != null;
	}

	public static String relationKey(long database, long relation) {
		return database + ":" + relation;
	}

	/** The display name of a relation lock's object; {@code database:oid} if it could not be named. */
	public RelationName relationName(LockObject object) {
		if (object.relation() == null) {
			return null;
		}
		long db = object.database() == null ? 0 : object.database();
		RelationName name = this.relationNames.get(relationKey(db, object.relation()));
		if (name != null) {
			return name;
		}
		return RelationName.unresolved(this.databaseNames.getOrDefault(db, String.valueOf(db)), object.relation(),
				"not resolved");
	}

	public LockSnapshot withReportedBlockers(Map<Integer, Set<Integer>> blockers) {
		return new LockSnapshot(this.target, this.takenAt, this.serverVersionNum, this.monitorPid, this.readAllStats, this.locks,
				this.sessions, this.prepared, this.relationNames, this.databaseNames, blockers, this.readDuration,
				this.standby);
	}

}
