package io.pglockwatch.graph;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.pglockwatch.collect.LockMode;
import io.pglockwatch.collect.LockObject;
import io.pglockwatch.collect.LockRow;
import io.pglockwatch.collect.LockSnapshot;
import io.pglockwatch.collect.PreparedTransaction;
import io.pglockwatch.collect.RelationName;
import io.pglockwatch.collect.SessionActivity;

/** Builds {@link LockSnapshot}s from rows as pg_locks would show them. */
final class SnapshotFixture {

	static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");

	static final long LAB = 16384;

	private final List<LockRow> locks = new ArrayList<>();

	private final Map<Integer, SessionActivity> sessions = new LinkedHashMap<>();

	private final Map<String, PreparedTransaction> prepared = new LinkedHashMap<>();

	private final Map<String, RelationName> names = new HashMap<>();

	private final Map<Integer, Set<Integer>> reported = new HashMap<>();

	static LockObject relation(long oid) {
		return relation(LAB, oid);
	}

	static LockObject relation(long db, long oid) {
		return new LockObject("relation", db, oid, null, null, null, null, null, null, null);
	}

	static LockObject transaction(long xid) {
		return new LockObject("transactionid", null, null, null, null, null, xid, null, null, null);
	}

	static LockObject tuple(long oid, int page, int tuple) {
		return new LockObject("tuple", LAB, oid, page, tuple, null, null, null, null, null);
	}

	static LockObject advisory(long key) {
		return new LockObject("advisory", LAB, null, null, null, null, null, key >>> 32, key & 0xffffffffL, 1);
	}

	SnapshotFixture name(long oid, String schema, String table) {
		this.names.put(LockSnapshot.relationKey(LAB, oid), RelationName.of(schema, table));
		return this;
	}

	SnapshotFixture session(int pid, String app, String state) {
		return session(pid, null, app, state);
	}

	SnapshotFixture session(int pid, Integer leader, String app, String state) {
		this.sessions.put(pid, new SessionActivity(pid, leader, "lab", "app", app, "10.0.0.1", "client backend", state,
				NOW.minusSeconds(600), NOW.minusSeconds(300), NOW.minusSeconds(60), NOW.minusSeconds(60), null, null,
				"SELECT ?", "SELECT"));
		return this;
	}

	SnapshotFixture holds(int pid, LockObject object, LockMode mode) {
		this.locks.add(new LockRow(pid, pid + "/1", object, mode, true, null));
		return this;
	}

	/** A wait that started {@code secondsAgo} before {@link #NOW}. */
	SnapshotFixture waits(int pid, LockObject object, LockMode mode, double secondsAgo) {
		this.locks.add(new LockRow(pid, pid + "/1", object, mode, false,
				NOW.minus(Duration.ofMillis((long) (secondsAgo * 1000)))));
		return this;
	}

	SnapshotFixture preparedHolds(String vxid, String gid, LockObject object, LockMode mode) {
		this.locks.add(new LockRow(0, vxid, object, mode, true, null));
		this.prepared.put(vxid, new PreparedTransaction(vxid, gid, "app", "lab", NOW.minusSeconds(3600)));
		return this;
	}

	SnapshotFixture reported(int pid, Integer... blockers) {
		this.reported.put(pid, Set.of(blockers));
		return this;
	}

	LockSnapshot snapshot() {
		return new LockSnapshot("orders", NOW, 180001, 1, true, List.copyOf(this.locks), Map.copyOf(this.sessions),
				Map.copyOf(this.prepared), Map.copyOf(this.names), Map.of(LAB, "lab"), Map.copyOf(this.reported),
				Duration.ofMillis(3));
	}

	LockWaitGraph graph() {
		return LockWaitGraph.of(snapshot());
	}

}
