package io.pglockwatch.poll;

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

import io.pglockwatch.lock.LockMode;
import io.pglockwatch.lock.LockObject;
import io.pglockwatch.lock.LockRow;
import io.pglockwatch.lock.LockSnapshot;
import io.pglockwatch.lock.PreparedTransaction;
import io.pglockwatch.lock.RelationName;
import io.pglockwatch.lock.SessionActivity;
import io.pglockwatch.lock.Standby;
import io.pglockwatch.sql.QueryTextMode;
import io.pglockwatch.sql.QueryTextRedactor;

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
			    -- (xid 0 is InvalidTransactionId, never a lock); every column hashes, nothing is cast to text
			    SELECT DISTINCT locktype, coalesce(database, 0) AS database, coalesce(relation, 0) AS relation,
			           coalesce(page, -1) AS page, coalesce(tuple, -1) AS tuple, coalesce(virtualxid, '') AS virtualxid,
			           coalesce(transactionid, '0'::xid) AS transactionid, coalesce(classid, 0) AS classid,
			           coalesce(objid, 0) AS objid, coalesce(objsubid, -1) AS objsubid
			    FROM l
			    WHERE NOT granted
			), contended AS (
			    SELECT l.*
			    FROM l
			    WHERE EXISTS (SELECT FROM waited w
			                  WHERE w.locktype = l.locktype AND w.database = coalesce(l.database, 0)
			                    AND w.relation = coalesce(l.relation, 0) AND w.page = coalesce(l.page, -1)
			                    AND w.tuple = coalesce(l.tuple, -1) AND w.virtualxid = coalesce(l.virtualxid, '')
			                    AND w.transactionid = coalesce(l.transactionid, '0'::xid) AND w.classid = coalesce(l.classid, 0)
			                    AND w.objid = coalesce(l.objid, 0) AND w.objsubid = coalesce(l.objsubid, -1))
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
			           (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()) AS current_db,
			           pg_catalog.pg_is_in_recovery() AS in_recovery
			)
			-- one row per lock row on a contended object, with its session; pg_stat_get_activity is the function
			-- under pg_stat_activity, whose joins for database and role names cost more per row than the rest of
			-- the statement: the role comes from the syscache, database names once in the last row
			SELECT c.locktype, c.database, c.relation, c.page, c.tuple, c.virtualxid, c.transactionid::text AS transactionid,
			       c.classid, c.objid, c.objsubid, c.virtualtransaction, c.pid, c.mode, c.granted, c.waitstart,
			       a.pid AS activity_pid, a.leader_pid, a.datid, pg_catalog.pg_get_userbyid(a.usesysid)::text AS usename,
			       a.application_name, host(a.client_addr) AS client_addr, a.backend_type, a.state, a.backend_start,
			       a.xact_start, a.query_start, a.state_change, a.wait_event_type, a.wait_event, a.query,
			       p.gid, p.owner AS prepared_owner, p.database AS prepared_database, p.prepared,
			       NULL AS taken_at, NULL AS monitor_pid, NULL AS server_version_num, NULL AS read_all_stats, NULL AS current_db,
			       NULL AS database_oids, NULL AS database_names,
			       NULL AS relation_databases, NULL AS relation_oids, NULL AS relation_schemas, NULL AS relation_names,
			       NULL AS in_recovery, NULL::timestamptz AS replay_at, NULL::int AS startup_pid,
			       NULL AS replay_wait, NULL::bigint AS confl_lock, NULL::bigint AS confl_snapshot,
			       NULL::bigint AS confl_bufferpin, NULL::bigint AS confl_deadlock, NULL::bigint AS confl_tablespace
			FROM contended c
			LEFT JOIN pg_catalog.pg_stat_get_activity(NULL) a ON a.pid = c.pid
			LEFT JOIN prepared p ON c.pid IS NULL AND p.virtualtransaction = c.virtualtransaction
			UNION ALL
			-- and one row with the facts of the read and the names, looked up once, not per lock row
			SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
			       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
			       NULL, NULL, NULL, NULL,
			       m.taken_at, m.monitor_pid, m.server_version_num, m.read_all_stats, m.current_db,
			       dbs.oids, dbs.names, rels.databases, rels.oids, rels.schemas, rels.names,
			       m.in_recovery, rec.replay_at, rec.startup_pid, rec.replay_wait, rec.confl_lock, rec.confl_snapshot,
			       rec.confl_bufferpin, rec.confl_deadlock, rec.confl_tablespace
			FROM meta m
			CROSS JOIN LATERAL (
			    SELECT array_agg(d.oid) AS oids, array_agg(d.datname::text) AS names
			    FROM pg_catalog.pg_database d
			) dbs
			CROSS JOIN LATERAL (
			    SELECT array_agg(r.database) AS databases, array_agg(r.relation) AS oids,
			           array_agg(n.nspname::text) AS schemas, array_agg(rc.relname::text) AS names
			    FROM (SELECT DISTINCT w.database, w.relation FROM waited w
			          WHERE w.relation <> 0 AND (w.database = m.current_db OR w.database = 0)) r
			    JOIN pg_catalog.pg_class rc ON rc.oid = r.relation
			    JOIN pg_catalog.pg_namespace n ON n.oid = rc.relnamespace
			) rels
			-- on a hot standby only: replay and its conflicts with queries here
			LEFT JOIN LATERAL (
			    SELECT pg_catalog.pg_last_xact_replay_timestamp() AS replay_at, s.pid AS startup_pid,
			           s.wait_event_type || ': ' || s.wait_event AS replay_wait,
			           c.lock AS confl_lock, c.snapshot AS confl_snapshot, c.bufferpin AS confl_bufferpin,
			           c.deadlock AS confl_deadlock, c.tablespace AS confl_tablespace
			    FROM (SELECT sum(confl_lock)::bigint AS lock, sum(confl_snapshot)::bigint AS snapshot,
			                 sum(confl_bufferpin)::bigint AS bufferpin, sum(confl_deadlock)::bigint AS deadlock,
			                 sum(confl_tablespace)::bigint AS tablespace
			          FROM pg_catalog.pg_stat_database_conflicts) c
			    LEFT JOIN pg_catalog.pg_stat_get_activity(NULL) s ON s.backend_type = 'startup'
			    WHERE m.in_recovery
			) rec ON true
			""";

	static final String BLOCKING_PIDS_SQL = """
			SELECT w.pid, pg_catalog.pg_blocking_pids(w.pid) AS blockers
			FROM unnest(?::int[]) AS w(pid)
			""";

	/** What the startup process of a standby is shown running. */
	public static final String REPLAY_QUERY = "replaying WAL from the primary: its locks are held for a transaction on the primary";

	/** The command tag and application the startup process is shown with. */
	public static final String REPLAY_COMMAND = "WAL replay";

	public static final String REPLAY_APPLICATION = "startup process (WAL replay)";

	private final String target;

	private final PrimaryHolders primaryHolders;

	/** The statement of every poll, for benchmarks and EXPLAIN. */
	public static String snapshotSql() {
		return SNAPSHOT_SQL;
	}

	private final QueryTextMode queryText;

	private final RelationNameResolver relationNames;

	public LockSnapshotCollector(String target, QueryTextMode queryText, RelationNameResolver relationNames) {
		this(target, queryText, relationNames, PrimaryHolders.NONE);
	}

	/**
	 * @param primaryHolders what the standby's primary (when it is a target too) says about who holds the locks
	 * that replay holds here
	 */
	public LockSnapshotCollector(String target, QueryTextMode queryText, RelationNameResolver relationNames,
			PrimaryHolders primaryHolders) {
		this.primaryHolders = primaryHolders;
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
		if (rows.standby != null) {
			nameReplay(rows);
		}
		return new LockSnapshot(this.target, rows.takenAt, rows.serverVersionNum, rows.monitorPid, rows.readAllStats,
				List.copyOf(rows.locks), Map.copyOf(rows.sessions), Map.copyOf(rows.prepared), Map.copyOf(names),
				Map.copyOf(rows.databaseNames), reported, Duration.ofNanos(System.nanoTime() - started), rows.standby);
	}

	/**
	 * The startup process of a standby has no query, user or client: it is named for what it does, with how far
	 * replay lags and, when the primary is watched too, the primary's session that holds the lock it replays.
	 */
	private void nameReplay(Rows rows) {
		Standby standby = rows.standby;
		if (standby.startupPid() == null) {
			return;
		}
		SessionActivity startup = rows.sessions.get(standby.startupPid());
		if (startup == null) {
			return;
		}
		StringBuilder what = new StringBuilder(REPLAY_QUERY);
		Duration lag = standby.replayLag(rows.takenAt);
		if (lag != null) {
			what.append("; replay lag ").append(lag.toSeconds()).append(" s (last replayed commit ")
				.append(standby.lastReplayAt()).append(')');
		}
		String holder = this.primaryHolders.describe(rows.locks, standby.startupPid());
		if (holder != null) {
			what.append("; ").append(holder);
		}
		rows.sessions.put(startup.pid(), new SessionActivity(startup.pid(), startup.leaderPid(), startup.database(),
				startup.user(), REPLAY_APPLICATION, startup.clientAddress(), startup.backendType(), startup.state(),
				startup.backendStart(), startup.transactionStart(), startup.queryStart(), startup.stateChange(),
				startup.waitEventType(), startup.waitEvent(), what.toString(), REPLAY_COMMAND));
	}

	private Rows readRows(Connection connection) throws SQLException {
		Rows rows = new Rows();
		try (PreparedStatement statement = connection.prepareStatement(SNAPSHOT_SQL)) {
			statement.setFetchSize(0);
			try (ResultSet rs = statement.executeQuery()) {
				while (rs.next()) {
					if (rs.getString("locktype") != null) {
						rows.add(rs, this.queryText);
					}
					else if (rs.getTimestamp("taken_at") != null) {
						rows.meta(rs);
					}
				}
			}
		}
		rows.resolveNames();
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

		long currentDatabase;

		final List<LockRow> locks = new ArrayList<>();

		final Map<Integer, SessionActivity> sessions = new LinkedHashMap<>();

		final Map<String, PreparedTransaction> prepared = new LinkedHashMap<>();

		final Map<String, RelationName> localNames = new HashMap<>();

		final Map<Long, Set<Long>> foreignRelations = new HashMap<>();

		final Map<Long, String> databaseNames = new HashMap<>();

		/** Per session its database oid, named once the last row has come. */
		final Map<Integer, Long> sessionDatabases = new HashMap<>();

		/** Set on a hot standby only. */
		Standby standby;

		/** The one row with the facts of the read and the names of the contended objects. */
		void meta(ResultSet rs) throws SQLException {
			if (rs.getBoolean("in_recovery")) {
				Map<String, Long> conflicts = new LinkedHashMap<>();
				for (String kind : Standby.CONFLICT_KINDS) {
					Long count = getLong(rs, "confl_" + kind);
					conflicts.put(kind, (count != null) ? count : 0L);
				}
				this.standby = new Standby(instant(rs, "replay_at"), getInt(rs, "startup_pid"), rs.getString("replay_wait"),
						conflicts);
			}
			this.takenAt = rs.getTimestamp("taken_at").toInstant();
			this.monitorPid = rs.getInt("monitor_pid");
			this.serverVersionNum = rs.getInt("server_version_num");
			this.readAllStats = rs.getBoolean("read_all_stats");
			this.currentDatabase = rs.getLong("current_db");
			long[] databases = longs(rs.getArray("database_oids"));
			String[] databaseNames = strings(rs.getArray("database_names"));
			for (int i = 0; i < databases.length; i++) {
				this.databaseNames.put(databases[i], databaseNames[i]);
			}
			long[] relationDatabases = longs(rs.getArray("relation_databases"));
			long[] relations = longs(rs.getArray("relation_oids"));
			String[] schemas = strings(rs.getArray("relation_schemas"));
			String[] names = strings(rs.getArray("relation_names"));
			for (int i = 0; i < relations.length; i++) {
				this.localNames.put(LockSnapshot.relationKey(relationDatabases[i], relations[i]),
						RelationName.of(schemas[i], names[i]));
			}
		}

		/**
		 * Names sessions' databases; local relations without a name were dropped since, the others are
		 * named over their own database.
		 */
		void resolveNames() {
			this.sessions.replaceAll((pid, s) -> {
				Long database = this.sessionDatabases.get(pid);
				return new SessionActivity(s.pid(), s.leaderPid(), (database != null) ? this.databaseNames.get(database) : null,
						s.user(), s.applicationName(), s.clientAddress(), s.backendType(), s.state(),
						s.backendStart(), s.transactionStart(), s.queryStart(), s.stateChange(), s.waitEventType(),
						s.waitEvent(), s.query(), s.commandTag());
			});
			for (LockRow row : this.locks) {
				Long database = row.object().database();
				Long relation = row.object().relation();
				if (database == null || relation == null) {
					continue;
				}
				if (database == this.currentDatabase || database == 0) {
					this.localNames.computeIfAbsent(LockSnapshot.relationKey(database, relation),
							(k) -> RelationName.unresolved(String.valueOf(database), relation, "relation no longer exists"));
				}
				else {
					this.foreignRelations.computeIfAbsent(database, (k) -> new HashSet<>()).add(relation);
				}
			}
		}

		void add(ResultSet rs, QueryTextMode queryText) throws SQLException {
			String lockType = rs.getString("locktype");
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
			if (pid == null) {
				if (vxid != null && rs.getString("gid") != null) {
					this.prepared.putIfAbsent(vxid, new PreparedTransaction(vxid, rs.getString("gid"),
							rs.getString("prepared_owner"), rs.getString("prepared_database"), instant(rs, "prepared")));
				}
			}
			else if (!this.sessions.containsKey(pid) && getInt(rs, "activity_pid") != null) {
				// without pg_monitor another role's row has most columns null; the session is still real
				String query = rs.getString("query");
				this.sessionDatabases.put(pid, getLong(rs, "datid"));
				this.sessions.put(pid,
						new SessionActivity(pid, getInt(rs, "leader_pid"), null, rs.getString("usename"),
								rs.getString("application_name"), rs.getString("client_addr"), rs.getString("backend_type"),
								rs.getString("state"), instant(rs, "backend_start"), instant(rs, "xact_start"),
								instant(rs, "query_start"), instant(rs, "state_change"), rs.getString("wait_event_type"),
								rs.getString("wait_event"), queryText.apply(query), QueryTextRedactor.commandTag(query)));
			}
		}

		private static long[] longs(Array array) throws SQLException {
			if (array == null) {
				return new long[0];
			}
			Object[] values = (Object[]) array.getArray();
			long[] result = new long[values.length];
			for (int i = 0; i < values.length; i++) {
				result[i] = ((Number) values[i]).longValue();
			}
			return result;
		}

		private static String[] strings(Array array) throws SQLException {
			return (array == null) ? new String[0] : (String[]) array.getArray();
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
