package io.pglockwatch.graph;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.pglockwatch.lock.LockMode;
import io.pglockwatch.lock.LockObject;
import io.pglockwatch.lock.LockRow;
import io.pglockwatch.lock.LockSnapshot;
import io.pglockwatch.lock.PreparedTransaction;
import io.pglockwatch.lock.RelationName;
import io.pglockwatch.lock.SessionActivity;
import io.pglockwatch.lock.Standby;

/** Builds {@link LockSnapshot}s from rows as pg_locks would show them. */
public final class SnapshotFixture {

	public static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");

	public static final long LAB = 16384;

	private final List<LockRow> locks = new ArrayList<>();

	private final Map<Integer, SessionActivity> sessions = new LinkedHashMap<>();

	private final Map<String, PreparedTransaction> prepared = new LinkedHashMap<>();

	private final Map<String, RelationName> names = new HashMap<>();

	private final Map<Integer, Set<Integer>> reported = new HashMap<>();

	private Instant takenAt = NOW;

	/** Reads the snapshot {@code seconds} after {@link #NOW}: every wait is that much longer. */
	public SnapshotFixture at(double seconds) {
		this.takenAt = NOW.plusMillis((long) (seconds * 1000));
		return this;
	}

	/** A session idle in transaction since {@code idleSeconds} before {@link #NOW}. */
	public SnapshotFixture idleSession(int pid, String app, double idleSeconds) {
		Instant since = NOW.minusMillis((long) (idleSeconds * 1000));
		this.sessions.put(pid, new SessionActivity(pid, null, "lab", "app", app, "10.0.0.1", "client backend",
				"idle in transaction", NOW.minusSeconds(600), since.minusSeconds(1), since.minusSeconds(1), since, null,
				null, "SELECT * FROM users LIMIT ?", "SELECT"));
		return this;
	}

	/** A session that started at {@code backendStartSecondsAgo}: a different session even with the same pid. */
	public SnapshotFixture sessionStartedAt(int pid, String app, double backendStartSecondsAgo) {
		this.sessions.put(pid, new SessionActivity(pid, null, "lab", "app", app, null, "client backend", "active",
				NOW.minusMillis((long) (backendStartSecondsAgo * 1000)), NOW.minusSeconds(5), NOW.minusSeconds(5),
				NOW.minusSeconds(5), "Lock", "relation", "ALTER TABLE users ADD COLUMN x int", "ALTER TABLE"));
		return this;
	}

	public static LockObject relation(long oid) {
		return relation(LAB, oid);
	}

	public static LockObject relation(long db, long oid) {
		return new LockObject("relation", db, oid, null, null, null, null, null, null, null);
	}

	public static LockObject transaction(long xid) {
		return new LockObject("transactionid", null, null, null, null, null, xid, null, null, null);
	}

	public static LockObject tuple(long oid, int page, int tuple) {
		return new LockObject("tuple", LAB, oid, page, tuple, null, null, null, null, null);
	}

	public static LockObject advisory(long key) {
		return new LockObject("advisory", LAB, null, null, null, null, null, key >>> 32, key & 0xffffffffL, 1);
	}

	public SnapshotFixture name(long oid, String schema, String table) {
		this.names.put(LockSnapshot.relationKey(LAB, oid), RelationName.of(schema, table));
		return this;
	}

	public SnapshotFixture session(int pid, String app, String state) {
		return session(pid, null, app, state);
	}

	public SnapshotFixture session(int pid, Integer leader, String app, String state) {
		this.sessions.put(pid, new SessionActivity(pid, leader, "lab", "app", app, "10.0.0.1", "client backend", state,
				NOW.minusSeconds(600), NOW.minusSeconds(300), NOW.minusSeconds(60), NOW.minusSeconds(60), null, null,
				"SELECT ?", "SELECT"));
		return this;
	}

	/** Gives a session already added another statement, e.g. a huge one. */
	public SnapshotFixture query(int pid, String query) {
		SessionActivity a = this.sessions.get(pid);
		this.sessions.put(pid, new SessionActivity(a.pid(), a.leaderPid(), a.database(), a.user(), a.applicationName(),
				a.clientAddress(), a.backendType(), a.state(), a.backendStart(), a.transactionStart(), a.queryStart(),
				a.stateChange(), a.waitEventType(), a.waitEvent(), query, a.commandTag()));
		return this;
	}

	public SnapshotFixture holds(int pid, LockObject object, LockMode mode) {
		this.locks.add(new LockRow(pid, pid + "/1", object, mode, true, null));
		return this;
	}

	/** A wait that started {@code secondsAgo} before {@link #NOW}. */
	public SnapshotFixture waits(int pid, LockObject object, LockMode mode, double secondsAgo) {
		this.locks.add(new LockRow(pid, pid + "/1", object, mode, false,
				NOW.minus(Duration.ofMillis((long) (secondsAgo * 1000)))));
		return this;
	}

	public SnapshotFixture preparedHolds(String vxid, String gid, LockObject object, LockMode mode) {
		this.locks.add(new LockRow(0, vxid, object, mode, true, null));
		this.prepared.put(vxid, new PreparedTransaction(vxid, gid, "app", "lab", NOW.minusSeconds(3600)));
		return this;
	}

	private Standby standby;

	public SnapshotFixture reported(int pid, Integer... blockers) {
		this.reported.put(pid, Set.of(blockers));
		return this;
	}

	public LockSnapshot snapshot() {
		return new LockSnapshot("orders", this.takenAt, 180001, 1, true, List.copyOf(this.locks), Map.copyOf(this.sessions),
				Map.copyOf(this.prepared), Map.copyOf(this.names), Map.of(LAB, "lab"), Map.copyOf(this.reported),
				Duration.ofMillis(3), this.standby);
	}

	/**
	 * Makes the target a hot standby whose startup process {@code pid} (backend type {@code startup}, no user,
	 * client or query) holds {@code mode} on {@code object}, as when replaying a lock taken on the primary.
	 */
	public SnapshotFixture replayHolds(int pid, LockObject object, LockMode mode) {
		this.sessions.put(pid, new SessionActivity(pid, null, null, null, "", null, "startup", null, NOW.minusSeconds(86400),
				null, null, null, null, null, null, null));
		this.standby = new Standby(this.takenAt.minusSeconds(1), pid, null, Map.of("lock", 0L));
		return holds(pid, object, mode);
	}

	public LockWaitGraph graph() {
		return LockWaitGraph.of(snapshot());
	}

}
