package io.pglockwatch.collect;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a target's lock state in one round trip: pg_locks once (materialized, so every row comes from the
 * same lock-table snapshot), narrowed to the objects somebody waits for by a hashed semi-join on the lock
 * tag, joined with pg_stat_activity and the relation names of the connected database.
 * <p>
 * It never calls a function that takes a relation lock (no {@code ::regclass} on user input, no
 * pg_relation_size...), never runs pg_blocking_pids() once per waiter, and never self-joins pg_locks on the
 * lock tag: the waiter/blocker pairs are computed in Java, linear in rows plus edges.
 */
public final class LockSnapshotCollector {

	/** PostgreSQL 14 added pg_locks.waitstart, which orders a wait queue; older servers are refused. */
	public static final int MIN_SERVER_VERSION = 140000;

	static final String SNAPSHOT_SQL = """
			WITH l AS MATERIALIZED (
			    SELECT locktype, database, relation, page, tuple, virtualxid, transactionid,
			           classid, objid, objsubid, virtualtransaction, pid, mode, granted, waitstart
			    FROM pg_catalog.pg_locks
			    WHERE mode <> 'SIReadLock'
			), waited AS MATERIALIZED (
			    -- the lock type fixes which tag columns are null, so coalescing them keeps tags distinct
			    SELECT DISTINCT locktype, coalesce(database, 0) AS database, coalesce(relation, 0) AS relation,
			           coalesce(page, -1) AS page, coalesce(tuple, -1) AS tuple, coalesce(virtualxid, '') AS virtualxid,
			           coalesce(transactionid::text, '') AS transactionid, coalesce(classid, 0) AS classid,
			           coalesce(objid, 0) AS objid, coalesce(objsubid, -1) AS objsubid
			    FROM l
			    WHERE NOT granted
			), contended AS (
			    SELECT l.*
			    FROM l
			    WHERE (locktype, coalesce(database, 0), coalesce(relation, 0), coalesce(page, -1), coalesce(tuple, -1),
			           coalesce(virtualxid, ''), coalesce(transactionid::text, ''), coalesce(classid, 0),
			           coalesce(objid, 0), coalesce(objsubid, -1)) IN (SELECT * FROM waited)
			), prepared AS (
			    -- a prepared transaction's rows have no pid; its own transactionid lock ties them to its gid
			    SELECT l.virtualtransaction, p.gid, p.owner, p.database, p.prepared
			    FROM l
			    JOIN pg_catalog.pg_prepared_xacts p ON p.transaction = l.transactionid
			    WHERE l.pid IS NULL AND l.locktype = 'transactionid' AND l.granted
			), meta AS (
			    SELECT statement_timestamp() AS taken_at, pg_backend_pid() AS monitor_pid,
			           current_setting('server_version_num')::int AS server_version_num,
			           pg_catalog.pg_has_role('pg_read_all_stats', 'USAGE') AS read_all_stats,
			           (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()) AS current_db
			)
			SELECT m.taken_at, m.monitor_pid, m.server_version_num, m.read_all_stats,
			       c.locktype, c.database, c.relation, c.page, c.tuple, c.virtualxid, c.transactionid::text AS transactionid,
			       c.classid, c.objid, c.objsubid, c.virtualtransaction, c.pid, c.mode, c.granted, c.waitstart,
			       d.datname AS lock_datname, rn.nspname AS rel_schema, rc.relname AS rel_name,
			       (c.database = m.current_db OR c.database = 0) AS rel_local,
			       a.pid AS activity_pid, a.leader_pid, a.datname, a.usename, a.application_name, host(a.client_addr) AS client_addr,
			       a.backend_type, a.state, a.backend_start, a.xact_start, a.query_start, a.state_change,
			       a.wait_event_type, a.wait_event, a.query,
			       p.gid, p.owner AS prepared_owner, p.database AS prepared_database, p.prepared
			FROM meta m
			LEFT JOIN contended c ON true
			LEFT JOIN pg_catalog.pg_database d ON d.oid = c.database
			LEFT JOIN pg_catalog.pg_class rc ON rc.oid = c.relation AND (c.database = m.current_db OR c.database = 0)
			LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
			LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = c.pid
			LEFT JOIN prepared p ON c.pid IS NULL AND p.virtualtransaction = c.virtualtransaction
			""";

	static final String BLOCKING_PIDS_SQL = """
			SELECT w.pid, pg_catalog.pg_blocking_pids(w.pid) AS blockers
			FROM unnest(?::int[]) AS w(pid)
			""";

	private final String target;

	private final QueryTextMode queryText;

	private final RelationNameResolver relationNames;

	public LockSnapshotCollector(String target, QueryTextMode queryText, RelationNameResolver relationNames) {
		this.target = target;
		this.queryText = queryText;
		this.relationNames = relationNames;
	}

	/** One read on {@code connection}, plus name lookups in other databases for relations not seen before. */
	public LockSnapshot read(Connection connection) throws SQLException {
		long started = System.nanoTime();
		Rows rows = readRows(connection);
		if (rows.serverVersionNum < MIN_SERVER_VERSION) {
			throw new UnsupportedServerException(rows.serverVersionNum);
		}
		Map<String, RelationName> names = new HashMap<>(rows.localNames);
		names.putAll(this.relationNames.resolve(rows.foreignRelations, rows.databaseNames));
		Map<Integer, Set<Integer>> reported = readAmbiguousBlockers(connection, rows.locks, rows.sessions);
		return new LockSnapshot(this.target, rows.takenAt, rows.serverVersionNum, rows.monitorPid, rows.readAllStats,
				List.copyOf(rows.locks), Map.copyOf(rows.sessions), Map.copyOf(rows.prepared), Map.copyOf(names),
				Map.copyOf(rows.databaseNames), reported, Duration.ofNanos(System.nanoTime() - started));
	}

	private Rows readRows(Connection connection) throws SQLException {
		Rows rows = new Rows();
		try (PreparedStatement statement = connection.prepareStatement(SNAPSHOT_SQL)) {
			statement.setFetchSize(0);
			try (ResultSet rs = statement.executeQuery()) {
				while (rs.next()) {
					if (rows.takenAt == null) {
						rows.takenAt = rs.getTimestamp("taken_at").toInstant();
						rows.monitorPid = rs.getInt("monitor_pid");
						rows.serverVersionNum = rs.getInt("server_version_num");
						rows.readAllStats = rs.getBoolean("read_all_stats");
					}
					String lockType = rs.getString("locktype");
					if (lockType == null) {
						continue; // the meta row alone: nobody waits
					}
					rows.add(rs, lockType, this.queryText);
				}
			}
		}
		return rows;
	}

	/**
	 * pg_locks does not show the wait queue; waitstart orders it, except that a waiter which already holds
	 * a lock on the object may have been placed ahead of earlier waiters. Only for the waiters on such
	 * objects ask the server, in one statement.
	 */
	private Map<Integer, Set<Integer>> readAmbiguousBlockers(Connection connection, List<LockRow> locks,
			Map<Integer, SessionActivity> sessions) throws SQLException {
		Map<LockObject, Set<Integer>> holders = new HashMap<>();
		for (LockRow row : locks) {
			if (row.granted()) {
				holders.computeIfAbsent(row.object(), (k) -> new HashSet<>()).add(group(row.pid(), sessions));
			}
		}
		Set<LockObject> ambiguous = new HashSet<>();
		for (LockRow row : locks) {
			if (!row.granted() && holders.getOrDefault(row.object(), Set.of()).contains(group(row.pid(), sessions))) {
				ambiguous.add(row.object());
			}
		}
		if (ambiguous.isEmpty()) {
			return Map.of();
		}
		Set<Integer> pids = new LinkedHashSet<>();
		for (LockRow row : locks) {
			if (!row.granted() && row.pid() != 0 && ambiguous.contains(row.object())) {
				pids.add(row.pid());
			}
		}
		Map<Integer, Set<Integer>> result = new HashMap<>();
		try (PreparedStatement statement = connection.prepareStatement(BLOCKING_PIDS_SQL)) {
			Array array = connection.createArrayOf("int4", pids.toArray());
			statement.setArray(1, array);
			try (ResultSet rs = statement.executeQuery()) {
				while (rs.next()) {
					Set<Integer> blockers = new LinkedHashSet<>();
					Array value = rs.getArray("blockers");
					if (value != null) {
						for (Object pid : (Object[]) value.getArray()) {
							blockers.add(((Number) pid).intValue());
						}
					}
					result.put(rs.getInt("pid"), blockers);
				}
			}
		}
		return Map.copyOf(result);
	}

	private static int group(int pid, Map<Integer, SessionActivity> sessions) {
		SessionActivity activity = sessions.get(pid);
		return (activity != null && activity.leaderPid() != null) ? activity.leaderPid() : pid;
	}

	/** Accumulates the result set. */
	private static final class Rows {

		Instant takenAt;

		int monitorPid;

		int serverVersionNum;

		boolean readAllStats;

		final List<LockRow> locks = new ArrayList<>();

		final Map<Integer, SessionActivity> sessions = new LinkedHashMap<>();

		final Map<String, PreparedTransaction> prepared = new LinkedHashMap<>();

		final Map<String, RelationName> localNames = new HashMap<>();

		final Map<Long, Set<Long>> foreignRelations = new HashMap<>();

		final Map<Long, String> databaseNames = new HashMap<>();

		void add(ResultSet rs, String lockType, QueryTextMode queryText) throws SQLException {
			Long database = getLong(rs, "database");
			Long relation = getLong(rs, "relation");
			String transactionId = rs.getString("transactionid");
			LockObject object = new LockObject(lockType, database, relation, getInt(rs, "page"), getInt(rs, "tuple"),
					rs.getString("virtualxid"), transactionId == null ? null : Long.valueOf(transactionId),
					getLong(rs, "classid"), getLong(rs, "objid"), getInt(rs, "objsubid"));
			LockMode mode = LockMode.lookup(rs.getString("mode"));
			if (mode == null) {
				return;
			}
			Integer pid = getInt(rs, "pid");
			String vxid = rs.getString("virtualtransaction");
			this.locks.add(new LockRow(pid == null ? 0 : pid, vxid, object, mode, rs.getBoolean("granted"),
					instant(rs, "waitstart")));
			if (database != null && rs.getString("lock_datname") != null) {
				this.databaseNames.putIfAbsent(database, rs.getString("lock_datname"));
			}
			if (relation != null && database != null) {
				String key = LockSnapshot.relationKey(database, relation);
				if (rs.getBoolean("rel_local")) {
					if (!this.localNames.containsKey(key)) {
						String schema = rs.getString("rel_schema");
						this.localNames.put(key, (schema != null) ? RelationName.of(schema, rs.getString("rel_name"))
								: RelationName.unresolved(String.valueOf(database), relation, "relation no longer exists"));
					}
				}
				else {
					this.foreignRelations.computeIfAbsent(database, (k) -> new HashSet<>()).add(relation);
				}
			}
			if (pid == null) {
				if (vxid != null && rs.getString("gid") != null) {
					this.prepared.putIfAbsent(vxid, new PreparedTransaction(vxid, rs.getString("gid"),
							rs.getString("prepared_owner"), rs.getString("prepared_database"), instant(rs, "prepared")));
				}
			}
			else if (!this.sessions.containsKey(pid) && getInt(rs, "activity_pid") != null) {
				// without pg_monitor another role's row has most columns null; the session is still real
				String query = rs.getString("query");
				this.sessions.put(pid,
						new SessionActivity(pid, getInt(rs, "leader_pid"), rs.getString("datname"), rs.getString("usename"),
								rs.getString("application_name"), rs.getString("client_addr"), rs.getString("backend_type"),
								rs.getString("state"), instant(rs, "backend_start"), instant(rs, "xact_start"),
								instant(rs, "query_start"), instant(rs, "state_change"), rs.getString("wait_event_type"),
								rs.getString("wait_event"), queryText.apply(query), QueryTextRedactor.commandTag(query)));
			}
		}

		private static Long getLong(ResultSet rs, String column) throws SQLException {
			long value = rs.getLong(column);
			return rs.wasNull() ? null : value;
		}

		private static Integer getInt(ResultSet rs, String column) throws SQLException {
			int value = rs.getInt(column);
			return rs.wasNull() ? null : value;
		}

		private static Instant instant(ResultSet rs, String column) throws SQLException {
			Timestamp value = rs.getTimestamp(column);
			return value == null ? null : value.toInstant();
		}

	}

	/** The server is older than {@link #MIN_SERVER_VERSION}. */
	public static final class UnsupportedServerException extends SQLException {

		UnsupportedServerException(int version) {
			super("PostgreSQL server_version_num " + version
					+ " is not supported: pg-lockwatch needs PostgreSQL 14 or later (pg_locks.waitstart)", "0A000");
		}

	}

}
