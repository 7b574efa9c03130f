package io.pglockwatch.poll;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

import io.pglockwatch.lock.LockMode;
import io.pglockwatch.lock.LockRow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link PrimaryHolders} of a standby whose primary is a target too ({@code pglockwatch.targets[N].primary}): the
 * relation locks replay holds on the standby are looked up on the primary, off the poll thread, with one short read
 * over the primary's own monitor sessions (the same {@code lock_timeout} and {@code statement_timeout}), and answered
 * from the latest lookup, at most one per relation every {@link #REFRESH}.
 */
final class PrimaryHolderLookup implements PrimaryHolders {

	private static final Logger logger = LoggerFactory.getLogger(PrimaryHolderLookup.class);

	/** How often the holder of one relation is looked up again while replay holds it. */
	static final Duration REFRESH = Duration.ofSeconds(2);

	/** A lookup older than this is not shown. */
	static final Duration STALE = Duration.ofSeconds(10);

	static final String HOLDER_SQL = """
			SELECT l.pid, a.state, a.application_name, pg_catalog.pg_get_userbyid(a.usesysid)::text AS usename,
			       a.xact_start, a.state_change, statement_timestamp() AS now
			FROM pg_catalog.pg_locks l
			JOIN pg_catalog.pg_stat_get_activity(NULL) a ON a.pid = l.pid
			WHERE l.locktype = 'relation' AND l.database = ? AND l.relation = ? AND l.mode = 'AccessExclusiveLock'
			  AND l.granted
			LIMIT 1
			""";

	private final String primary;

	private final Supplier<TargetConnections> connections;

	private final Executor executor;

	private final Map<String, Lookup> lookups = new ConcurrentHashMap<>();

	/**
	 * @param primary the primary's target name
	 * @param connections the primary's monitor sessions, once the monitor has started
	 * @param executor runs the lookups
	 */
	PrimaryHolderLookup(String primary, Supplier<TargetConnections> connections, Executor executor) {
		this.primary = primary;
		this.connections = connections;
		this.executor = executor;
	}

	@Override
	public String describe(List<LockRow> locks, int startupPid) {
		for (LockRow row : locks) {
			if (row.pid() != startupPid || !row.granted() || row.mode() != LockMode.ACCESS_EXCLUSIVE
					|| !row.object().isRelation() || row.object().database() == null) {
				continue;
			}
			String key = row.object().database() + ":" + row.object().relation();
			Lookup lookup = this.lookups.get(key);
			Instant now = Instant.now();
			if (lookup == null || Duration.between(lookup.asked(), now).compareTo(REFRESH) >= 0) {
				refresh(key, row.object().database(), row.object().relation(), lookup, now);
			}
			if (lookup != null && lookup.text() != null && Duration.between(lookup.at(), now).compareTo(STALE) < 0) {
				return lookup.text();
			}
		}
		return null;
	}

	private void refresh(String key, long database, long relation, Lookup previous, Instant now) {
		// a placeholder keeps the previous answer and stops a second lookup of the key while this one runs
		this.lookups.put(key, new Lookup((previous != null) ? previous.text() : null,
				(previous != null) ? previous.at() : now.minus(STALE), now));
		try {
			this.executor.execute(() -> this.lookups.put(key, new Lookup(lookUp(database, relation), Instant.now(),
					Instant.now())));
		}
		catch (RejectedExecutionException ex) {
			// shutting down
		}
	}

	private String lookUp(long database, long relation) {
		TargetConnections primary = this.connections.get();
		if (primary == null) {
			return null;
		}
		Connection connection = null;
		boolean broken = false;
		try {
			connection = primary.borrow();
			try (PreparedStatement statement = connection.prepareStatement(HOLDER_SQL)) {
				statement.setLong(1, database);
				statement.setLong(2, relation);
				try (ResultSet rs = statement.executeQuery()) {
					return rs.next() ? describe(rs) : "nobody holds it on " + this.primary + " now (replay is behind)";
				}
			}
		}
		catch (SQLException | RuntimeException ex) {
			broken = true;
			logger.warn("Cannot look up who holds relation {} on {}: {}", relation, this.primary, ex.getMessage());
			return null;
		}
		finally {
			primary.release(connection, broken);
		}
	}

	private String describe(ResultSet rs) throws SQLException {
		StringBuilder text = new StringBuilder("held on ").append(this.primary).append(" by pid ").append(rs.getInt("pid"));
		String state = rs.getString("state");
		Timestamp now = rs.getTimestamp("now");
		if (state != null) {
			text.append(' ').append(state);
			Timestamp since = "idle in transaction".equals(state) ? rs.getTimestamp("state_change")
					: rs.getTimestamp("xact_start");
			if (since != null && now != null) {
				text.append(' ').append(human(Duration.between(since.toInstant(), now.toInstant())));
			}
		}
		String app = rs.getString("application_name");
		String user = rs.getString("usename");
		if ((app != null && !app.isEmpty()) || user != null) {
			text.append(" (");
			if (app != null && !app.isEmpty()) {
				text.append("app ").append(app).append((user != null) ? ", " : "");
			}
			if (user != null) {
				text.append("user ").append(user);
			}
			text.append(')');
		}
		return text.toString();
	}

	private static String human(Duration d) {
		long s = Math.max(0, d.toSeconds());
		return (s < 120) ? s + "s" : (s < 7200) ? (s / 60) + "m" : (s / 3600) + "h";
	}

	/**
	 * @param text the answer, null when unknown
	 * @param at when the answer was read
	 * @param asked when it was last asked for
	 */
	private record Lookup(String text, Instant at, Instant asked) {
	}

}
