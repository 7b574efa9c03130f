package io.pglockwatch.gate;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches one attempt from the gate's own session: while the migration's session waits for a lock, it counts the
 * sessions queued behind it and how long they have waited, and cancels the migration's statement as soon as one has
 * waited {@code max-victim-wait}, but only while that statement still waits for its lock.
 *
 * <p>The race: the check "still waiting" and {@code pg_cancel_backend} run in one SQL statement, but PostgreSQL
 * reads {@code pg_locks} a moment before it signals, so a lock granted in between is cancelled anyway. The statement
 * then fails with 57014 like a cancelled wait, its transaction rolls back (or, outside a transaction, the gate
 * cleans up), and the gate retries it; nothing is left half done.
 */
final class Watcher implements Runnable {

	private static final Logger log = LoggerFactory.getLogger(Watcher.class);

	/** PG 14+: pg_locks.waitstart says when each wait began. */
	private static final String LOOK_14 = """
			WITH w AS (
			  SELECT l.locktype, l.mode, l.waitstart,
			         (SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			           WHERE c.oid = l.relation) AS relname
			  FROM pg_locks l WHERE l.pid = ? AND NOT l.granted LIMIT 1)
			SELECT w.locktype, w.mode, w.relname,
			       coalesce((extract(epoch FROM clock_timestamp() - w.waitstart) * 1000)::bigint, 0),
			       v.n, coalesce(v.longest, 0)
			FROM w LEFT JOIN LATERAL (
			  SELECT count(*) AS n,
			         max((extract(epoch FROM clock_timestamp() - coalesce(vl.waitstart, a.query_start)) * 1000))::bigint AS longest
			  FROM pg_stat_activity a
			  LEFT JOIN LATERAL (SELECT min(l2.waitstart) AS waitstart FROM pg_locks l2
			                     WHERE l2.pid = a.pid AND NOT l2.granted) vl ON true
			  WHERE a.wait_event_type = 'Lock' AND a.pid <> ? AND ? = ANY (pg_blocking_pids(a.pid))) v ON true""";

	/** Before PG 14: the wait of a session waiting for a lock is taken from the start of its statement. */
	private static final String LOOK_OLD = """
			WITH w AS (
			  SELECT l.locktype, l.mode,
			         (SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			           WHERE c.oid = l.relation) AS relname
			  FROM pg_locks l WHERE l.pid = ? AND NOT l.granted LIMIT 1)
			SELECT w.locktype, w.mode, w.relname,
			       (SELECT (extract(epoch FROM clock_timestamp() - a.query_start) * 1000)::bigint
			          FROM pg_stat_activity a WHERE a.pid = ?),
			       v.n, coalesce(v.longest, 0)
			FROM w LEFT JOIN LATERAL (
			  SELECT count(*) AS n,
			         max((extract(epoch FROM clock_timestamp() - a.query_start) * 1000))::bigint AS longest
			  FROM pg_stat_activity a
			  WHERE a.wait_event_type = 'Lock' AND a.pid <> ? AND ? = ANY (pg_blocking_pids(a.pid))) v ON true""";

	private static final String BLOCKERS = """
			SELECT a.pid, a.application_name, a.usename, a.state,
			       coalesce((extract(epoch FROM clock_timestamp() - a.xact_start) * 1000)::bigint, -1), a.query,
			       (SELECT string_agg(DISTINCT h.mode, ',') FROM pg_locks h JOIN pg_locks m
			          ON m.pid = ? AND NOT m.granted AND h.locktype = m.locktype
			             AND h.database IS NOT DISTINCT FROM m.database AND h.relation IS NOT DISTINCT FROM m.relation
			             AND h.virtualxid IS NOT DISTINCT FROM m.virtualxid
			             AND h.transactionid IS NOT DISTINCT FROM m.transactionid
			        WHERE h.pid = a.pid AND h.granted)
			FROM pg_stat_activity a WHERE a.pid = ANY (pg_blocking_pids(?)) ORDER BY a.xact_start NULLS LAST""";

	/** Checks "still waiting for a lock" and cancels in one statement; no row when the lock was granted. */
	private static final String CANCEL = "SELECT pg_cancel_backend(l.pid) FROM pg_locks l WHERE l.pid = ? AND NOT l.granted LIMIT 1";

	private final Attempt attempt;
	private final Connection connection;
	private final GateSettings settings;
	private final boolean waitstart;
	private static final long BLOCKERS_EVERY_NANOS = 250_000_000L;

	private volatile boolean stopped;
	private long lastBlockersNanos;
	private Thread thread;

	Watcher(Attempt attempt, Connection connection, GateSettings settings, int serverVersionNum) {
		this.attempt = attempt;
		this.connection = connection;
		this.settings = settings;
		this.waitstart = serverVersionNum >= 140000;
	}

	void start() {
		thread = new Thread(this, "pglockwatch-gate-watcher " + attempt.migration);
		thread.setDaemon(true);
		thread.start();
	}

	/** Stops watching and waits for the thread, so no cancel is sent after this returns. */
	void stop() {
		stopped = true;
		Thread t = thread;
		if (t != null) {
			try {
				t.join(5000);
			}
			catch (InterruptedException e) {
				Thread.currentThread().interrupt();
			}
		}
	}

	@Override
	public void run() {
		long poll = Math.max(1, settings.pollInterval().toMillis());
		while (!stopped) {
			long sleep = poll;
			try {
				sleep = look(poll);
				if (sleep < 0) {
					return;
				}
			}
			catch (SQLException e) {
				if (stopped) {
					return;
				}
				log.warn("gate watcher of {} could not read pg_locks: {}", attempt.migration, e.getMessage());
			}
			try {
				Thread.sleep(sleep);
			}
			catch (InterruptedException e) {
				return;
			}
		}
	}

	/**
	 * One look. Returns how long to sleep before the next one: the poll interval, or less when a session queued
	 * behind the migration reaches {@code max-victim-wait} sooner; -1 once it has cancelled the migration's statement.
	 */
	private long look(long poll) throws SQLException {
		int pid = attempt.pid;
		if (pid == 0) {
			return poll;
		}
		String locktype;
		String mode;
		String relation;
		long waited;
		int victims;
		long longest;
		try (PreparedStatement statement = connection.prepareStatement(waitstart ? LOOK_14 : LOOK_OLD)) {
			statement.setInt(1, pid);
			statement.setInt(2, pid);
			statement.setInt(3, pid);
			if (!waitstart) {
				statement.setInt(4, pid);
			}
			try (ResultSet rows = statement.executeQuery()) {
				if (!rows.next()) {
					return poll; // not waiting for a lock
				}
				locktype = rows.getString(1);
				mode = rows.getString(2);
				relation = rows.getString(3);
				waited = rows.getLong(4);
				victims = rows.getInt(5);
				longest = rows.getLong(6);
			}
		}
		if (stopped) {
			return poll;
		}
		attempt.waitedFor = mode + " on " + (relation != null ? relation : locktype);
		attempt.waitedMillis = Math.max(attempt.waitedMillis, waited);
		attempt.victims = victims;
		attempt.maxVictims = Math.max(attempt.maxVictims, victims);
		attempt.longestVictimMillis = Math.max(attempt.longestVictimMillis, longest);
		long threshold = settings.maxVictimWait().toMillis();
		if (victims > 0 && longest >= threshold) {
			if (cancel(pid)) {
				log.debug("gate cancelled {} (pid {}): {} sessions waited behind it, the longest {} ms",
						attempt.migration, pid, victims, longest);
				// who was in the way, for the log line and the message; they are still there after the cancel
				attempt.blockers = blockers(pid);
				return -1;
			}
			return poll;
		}
		long now = System.nanoTime();
		if (attempt.blockers.isEmpty() || now - lastBlockersNanos > BLOCKERS_EVERY_NANOS) {
			attempt.blockers = blockers(pid);
			lastBlockersNanos = now;
		}
		// wake up when the longest waiter reaches max-victim-wait, not up to a poll later
		return victims > 0 ? Math.max(1, Math.min(poll, threshold - longest)) : poll;
	}

	private boolean cancel(int pid) throws SQLException {
		attempt.cancelledByGate = true;
		boolean cancelled = false;
		try {
			if (!stopped) {
				try (PreparedStatement statement = connection.prepareStatement(CANCEL)) {
					statement.setInt(1, pid);
					try (ResultSet rows = statement.executeQuery()) {
						cancelled = rows.next() && rows.getBoolean(1);
					}
				}
			}
		}
		finally {
			if (!cancelled) {
				attempt.cancelledByGate = false;
			}
		}
		return cancelled;
	}

	/** The blockers of a pid; when it waits no more (after a cancel), the ones seen before are kept. */
	private List<Blocker> blockers(int pid) throws SQLException {
		List<Blocker> found = new ArrayList<>();
		try (PreparedStatement statement = connection.prepareStatement(BLOCKERS)) {
			statement.setInt(1, pid);
			statement.setInt(2, pid);
			try (ResultSet rows = statement.executeQuery()) {
				while (rows.next()) {
					found.add(Blocker.of(rows.getInt(1), rows.getString(2), rows.getString(3), rows.getString(4),
							rows.getLong(5), rows.getString(6), rows.getString(7)));
				}
			}
		}
		return found.isEmpty() ? attempt.blockers : List.copyOf(found);
	}

}
