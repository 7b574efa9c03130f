package io.pglockwatch.bench;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.pglockwatch.graph.SnapshotFixture;
import io.pglockwatch.lock.LockMode;
import io.pglockwatch.lock.LockObject;
import io.pglockwatch.lock.LockSnapshot;

import static io.pglockwatch.graph.SnapshotFixture.advisory;
import static io.pglockwatch.graph.SnapshotFixture.relation;
import static io.pglockwatch.graph.SnapshotFixture.transaction;
import static io.pglockwatch.graph.SnapshotFixture.tuple;
import static io.pglockwatch.lock.LockMode.ACCESS_EXCLUSIVE;
import static io.pglockwatch.lock.LockMode.ACCESS_SHARE;
import static io.pglockwatch.lock.LockMode.EXCLUSIVE;
import static io.pglockwatch.lock.LockMode.ROW_EXCLUSIVE;
import static io.pglockwatch.lock.LockMode.ROW_SHARE;
import static io.pglockwatch.lock.LockMode.SHARE;

/**
 * Synthetic lock snapshots of a bad day on a large server, for benchmarks: exactly {@code sessions} backends and
 * {@code 2 * sessions} pg_locks rows, every row on an object somebody waits for (what the collector reads). For
 * {@code sessions} = 10,000:
 * <ul>
 * <li>50 DDL queues. 45 are ALTER TABLE queues: a root holder (idle in transaction with AccessShareLock and
 * RowExclusiveLock on the table, or every eighth a parallel report whose leader and two workers hold
 * AccessShareLock), an ALTER TABLE waiting for AccessExclusiveLock and 60-150 sessions queued behind it (7 in 10
 * readers waiting AccessShareLock, 3 in 10 writers waiting RowExclusiveLock); every third migration already holds
 * AccessExclusiveLock on a second table, with 8 readers waiting on that one. 5 are CREATE INDEX queues (ShareLock)
 * on busy tables, with a writer holding RowExclusiveLock ahead and 40 writers queued behind.</li>
 * <li>Queued readers and writers keep their other row on a busy (CREATE INDEX) table, AccessShareLock that
 * conflicts with nothing there, except the queued writers whose transaction id other sessions wait for.</li>
 * <li>25 row-lock chains: every other one behind a writer stuck in a DDL queue, the others behind a session idle
 * in transaction or running a long batch. Hot-row chains (one waiter holds the tuple lock and waits for the
 * transaction id ShareLock, 20-60 more wait for the tuple lock, each also behind every earlier one) and bulk
 * chains (40-100 updaters wait ShareLock on one transaction id, every other with a follower on its tuple).</li>
 * <li>10 advisory locks with 20-40 job workers each waiting pg_advisory_lock on the key one worker holds.</li>
 * <li>2 deadlocks not yet broken (two sessions each waiting for the other's transaction id).</li>
 * <li>The rest: reporting sessions holding AccessShareLock / RowShareLock on the busy tables (1-3 rows each),
 * granted and in conflict with nobody, so in no edge; their row count makes the total exactly
 * {@code 2 * sessions}.</li>
 * </ul>
 * Counts scale with {@code sessions} (queue depths do not), so the graph grows linearly with it. Deterministic: the
 * same {@code sessions} gives the same snapshot, read at {@link SnapshotFixture#NOW}.
 */
public final class SyntheticSnapshots {

	private static final long ALTERED = 20_000;

	private static final long MIGRATED = 30_000;

	private static final long BUSY = 40_000;

	private static final long HOT = 50_000;

	private static final long XID = 900_000;

	private SyntheticSnapshots() {
	}

	/** The bad day with {@code sessions} backends and twice as many lock rows, and what its graph must show. */
	public static Shape badDay(int sessions) {
		return new Generator(sessions).build();
	}

	/**
	 * A snapshot and the shape its graph must have.
	 *
	 * @param ddlQueueDepths queue depth by the waiting DDL's pid, one entry per DDL queue
	 * @param graphNodes sessions in the graph (parallel workers fold into their leader; granted holders in
	 * conflict with nobody are not in it)
	 * @param rootBlockers root blockers, members of wait cycles included
	 * @param cycles wait cycles
	 */
	public record Shape(LockSnapshot snapshot, Map<Integer, Integer> ddlQueueDepths, int graphNodes, int rootBlockers,
			int cycles) {
	}

	private static final class Generator {

		private final int sessions;

		private final SnapshotFixture fixture = new SnapshotFixture();

		private final Map<Integer, Integer> ddlQueueDepths = new LinkedHashMap<>();

		private final int busyTables;

		private int nextPid = 1000;

		private int sessionCount;

		private int rowCount;

		private int notInGraph;

		private int rootBlockers;

		private int cycles;

		Generator(int sessions) {
			this.sessions = sessions;
			int ddlQueues = Math.max(5, sessions / 200);
			this.busyTables = Math.max(2, ddlQueues / 10);
		}

		Shape build() {
			int ddlQueues = Math.max(5, this.sessions / 200);
			int alterQueues = ddlQueues - this.busyTables;
			int chains = Math.max(4, this.sessions / 400);
			int advisoryKeys = Math.max(2, this.sessions / 1000);
			int deadlocks = Math.max(1, this.sessions / 5000);

			// writers queued behind each ALTER TABLE whose second row is still free, and the DDL they queue behind
			List<Deque<Integer>> spareWriters = new ArrayList<>();
			List<Integer> alterPids = new ArrayList<>();
			for (int q = 0; q < alterQueues; q++) {
				Deque<Integer> writers = new ArrayDeque<>();
				alterPids.add(alterQueue(q, writers));
				spareWriters.add(writers);
			}
			for (int j = 0; j < this.busyTables; j++) {
				createIndexQueue(j);
			}
			for (int c = 0; c < chains; c++) {
				int holder;
				if (c % 2 == 0) {
					int q = (c / 2) % alterQueues;
					holder = spareWriters.get(q).removeFirst();
					int behind = rowLockChain(c, holder);
					this.ddlQueueDepths.merge(alterPids.get(q), behind, Integer::sum);
				}
				else {
					holder = pid();
					if (c % 4 == 1) {
						this.fixture.idleSession(holder, "api", 20 + c);
					}
					else {
						this.fixture.session(holder, "batch", "active");
					}
					session();
					this.rootBlockers++;
					rowLockChain(c, holder);
				}
			}
			int busy = 0;
			for (Deque<Integer> writers : spareWriters) {
				for (int writer : writers) {
					hold(writer, busyTable(busy++), ACCESS_SHARE);
				}
			}
			for (int a = 0; a < advisoryKeys; a++) {
				advisoryQueue(a);
			}
			for (int d = 0; d < deadlocks; d++) {
				deadlock(d);
			}
			grantedBystanders();
			LockSnapshot snapshot = this.fixture.snapshot();
			check(snapshot.sessions().size() == this.sessions && snapshot.locks().size() == 2 * this.sessions,
					"built " + snapshot.sessions().size() + " sessions / " + snapshot.locks().size() + " rows");
			return new Shape(snapshot, Collections.unmodifiableMap(this.ddlQueueDepths), this.sessions - this.notInGraph,
					this.rootBlockers, this.cycles);
		}

		/** Returns the ALTER's pid; adds the pids of the queued writers to {@code writers}. */
		private int alterQueue(int q, Deque<Integer> writers) {
			long table = ALTERED + q;
			this.fixture.name(table, "public", "t" + q);
			int root = pid();
			if (q % 8 == 3) {
				// a parallel report: leader and workers each hold the table and the busy table they join
				this.fixture.session(root, "reporting", "active");
				session();
				hold(root, relation(table), ACCESS_SHARE);
				hold(root, busyTable(q), ACCESS_SHARE);
				for (int w = 0; w < 2; w++) {
					int worker = pid();
					this.fixture.session(worker, root, "reporting", "active");
					session();
					this.notInGraph++;
					hold(worker, relation(table), ACCESS_SHARE);
					hold(worker, busyTable(q), ACCESS_SHARE);
				}
			}
			else {
				this.fixture.idleSession(root, "api", 45 + q);
				session();
				hold(root, relation(table), ACCESS_SHARE);
				hold(root, relation(table), ROW_EXCLUSIVE);
			}
			this.rootBlockers++;

			int alter = pid();
			this.fixture.sessionStartedAt(alter, "migrate", 900);
			session();
			double alterWait = 10 + (q * 13) % 110;
			waits(alter, relation(table), ACCESS_EXCLUSIVE, alterWait);
			int depth = 0;
			if (q % 3 == 0) {
				// the migration's transaction altered another table first and keeps it locked
				long migrated = MIGRATED + q;
				this.fixture.name(migrated, "public", "m" + q);
				hold(alter, relation(migrated), ACCESS_EXCLUSIVE);
				for (int i = 0; i < 8; i++) {
					int reader = pid();
					this.fixture.session(reader, "api", "active");
					session();
					waits(reader, relation(migrated), ACCESS_SHARE, alterWait * (8 - i) / 9);
				}
				depth += 8;
			}
			int queued = 60 + (q * 37) % 91;
			for (int i = 0; i < queued; i++) {
				int pid = pid();
				this.fixture.session(pid, "api", "active");
				session();
				double waited = alterWait * (queued - i) / (queued + 1);
				if (i % 10 < 7) {
					waits(pid, relation(table), ACCESS_SHARE, waited);
					hold(pid, busyTable(q + i), ACCESS_SHARE);
				}
				else {
					waits(pid, relation(table), ROW_EXCLUSIVE, waited);
					writers.add(pid);
				}
			}
			depth += queued;
			this.ddlQueueDepths.put(alter, depth);
			return alter;
		}

		private void createIndexQueue(int j) {
			long table = BUSY + j;
			this.fixture.name(table, "public", "busy" + j);
			int holder = pid();
			this.fixture.session(holder, "batch", "active");
			session();
			hold(holder, relation(table), ACCESS_SHARE);
			hold(holder, relation(table), ROW_EXCLUSIVE);
			this.rootBlockers++;
			int ddl = pid();
			this.fixture.sessionStartedAt(ddl, "migrate", 900);
			session();
			double ddlWait = 20 + j * 7;
			waits(ddl, relation(table), SHARE, ddlWait);
			int queued = 40;
			for (int i = 0; i < queued; i++) {
				int writer = pid();
				this.fixture.session(writer, "api", "active");
				session();
				waits(writer, relation(table), ROW_EXCLUSIVE, ddlWait * (queued - i) / (queued + 1));
				hold(writer, busyTable(j + 1), ACCESS_SHARE);
			}
			this.ddlQueueDepths.put(ddl, queued);
		}

		/** Sessions behind {@code holder}'s transaction id; returns how many. */
		private int rowLockChain(int c, int holder) {
			LockObject xid = transaction(XID + c);
			hold(holder, xid, EXCLUSIVE);
			long table = HOT + c;
			this.fixture.name(table, "public", "hot" + c);
			double wait = 5 + c % 20;
			if (c % 3 == 0) {
				// bulk: the holder updated many rows; one updater waits per row, every other with a follower
				int updaters = 40 + (c * 29) % 61;
				int behind = 0;
				for (int i = 0; i < updaters; i++) {
					int updater = pid();
					this.fixture.session(updater, "api", "active");
					session();
					double waited = wait * (updaters - i) / (updaters + 1);
					waits(updater, xid, SHARE, waited);
					behind++;
					if (i % 2 == 1) {
						LockObject row = tuple(table, i, 1);
						hold(updater, row, EXCLUSIVE);
						int follower = pid();
						this.fixture.session(follower, "api", "active");
						session();
						waits(follower, row, EXCLUSIVE, waited / 2);
						behind++;
					}
				}
				return behind;
			}
			// hot row: the first waiter holds the tuple lock and waits for the transaction, the rest for the tuple
			int waiters = 20 + (c * 17) % 41;
			LockObject row = tuple(table, 0, 1);
			int first = pid();
			this.fixture.session(first, "api", "active");
			session();
			hold(first, row, EXCLUSIVE);
			waits(first, xid, SHARE, wait);
			for (int i = 1; i < waiters; i++) {
				int waiter = pid();
				this.fixture.session(waiter, "api", "active");
				session();
				waits(waiter, row, EXCLUSIVE, wait * (waiters - i) / waiters);
			}
			return waiters;
		}

		private void advisoryQueue(int a) {
			LockObject key = advisory(7_000_000_000L + a);
			int holder = pid();
			this.fixture.session(holder, "jobs", "active");
			session();
			hold(holder, key, EXCLUSIVE);
			this.rootBlockers++;
			int workers = 20 + (a * 11) % 21;
			for (int i = 0; i < workers; i++) {
				int worker = pid();
				this.fixture.session(worker, "jobs", "active");
				session();
				waits(worker, key, EXCLUSIVE, 30.0 * (workers - i) / workers);
			}
		}

		private void deadlock(int d) {
			int a = pid();
			int b = pid();
			LockObject xa = transaction(XID + 50_000 + 2 * d);
			LockObject xb = transaction(XID + 50_000 + 2 * d + 1);
			this.fixture.session(a, "api", "active").session(b, "api", "active");
			session();
			session();
			hold(a, xa, EXCLUSIVE);
			waits(a, xb, SHARE, 0.6);
			hold(b, xb, EXCLUSIVE);
			waits(b, xa, SHARE, 0.4);
			this.rootBlockers += 2;
			this.cycles++;
		}

		/** Fills up to the session and row counts with granted holders on busy tables that conflict with nobody. */
		private void grantedBystanders() {
			int count = this.sessions - this.sessionCount;
			int rows = 2 * this.sessions - this.rowCount;
			check(count > 0 && rows >= count && rows <= 3 * count,
					"no room for " + rows + " rows in " + count + " bystanders");
			for (int i = 0; i < count; i++) {
				int pid = pid();
				this.fixture.session(pid, "reporting", "active");
				session();
				this.notInGraph++;
				int mine = rows / count + ((i < rows % count) ? 1 : 0);
				hold(pid, busyTable(i), ACCESS_SHARE);
				if (mine > 1) {
					hold(pid, busyTable(i), ROW_SHARE);
				}
				if (mine > 2) {
					hold(pid, busyTable(i + 1), ACCESS_SHARE);
				}
			}
		}

		private LockObject busyTable(int i) {
			return relation(BUSY + Math.floorMod(i, this.busyTables));
		}

		private int pid() {
			return this.nextPid++;
		}

		private void session() {
			this.sessionCount++;
		}

		private void hold(int pid, LockObject object, LockMode mode) {
			this.fixture.holds(pid, object, mode);
			this.rowCount++;
		}

		private void waits(int pid, LockObject object, LockMode mode, double secondsAgo) {
			this.fixture.waits(pid, object, mode, secondsAgo);
			this.rowCount++;
		}

		private static void check(boolean condition, String message) {
			if (!condition) {
				throw new IllegalStateException(message);
			}
		}

	}

}
