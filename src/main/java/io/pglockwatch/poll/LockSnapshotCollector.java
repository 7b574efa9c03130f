package io.pglockwatch.poll;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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

	/** pg_locks.mode as the server spells it; {@link LockMode#lookup} (which accepts other spellings) for the rest. */
	private static final Map<String, LockMode> PG_MODES = new HashMap<>();

	static {
		for (LockMode mode : LockMode.values()) {
			PG_MODES.put(mode.pgName(), mode);
		}
	}

	private final QueryTextMode queryText;

	private final RelationNameResolver relationNames;

	/**
	 * The query texts of the latest read, shaped by {@link #queryText} (and their command tags), by the text as read:
	 * the sessions of a queue run a handful of statements, and their texts change little from one poll to the next,
	 * so each is shaped once rather than once per session per poll. Only the latest read's texts are kept. Written by
	 * one read at a time: polls of a target never overlap.
	 */
	private volatile Map<String, ShapedQuery> shapedQueries = Map.of();

	/** Database names by oid as of the latest read, so that sessions are named as they are read. */
	private volatile Map<Long, String> knownDatabases = Map.of();

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
		this.shapedQueries = rows.shaped;
		this.knownDatabases = rows.databaseNames;
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
		Rows rows = new Rows(this.queryText, this.shapedQueries, this.knownDatabases);
		try (PreparedStatement statement = connection.prepareStatement(SNAPSHOT_SQL)) {
			statement.setFetchSize(0);
			try (ResultSet rs = statement.executeQuery()) {
				Columns columns = new Columns(rs);
				while (rs.next()) {
					String lockType = rs.getString(columns.locktype);
					if (lockType != null) {
						rows.add(rs, columns, lockType);
					}
					else if (rs.getTimestamp(columns.takenAt) != null) {
						rows.meta(rs, columns);
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
		// what each lock group waits for; a waiter waits for one object, a parallel group for a few
		Map<Integer, List<LockObject>> waitedByGroup = new HashMap<>();
		for (LockRow row : locks) {
			if (!row.granted()) {
				waitedByGroup.computeIfAbsent(group(row.pid(), sessions), (k) -> new ArrayList<>(1)).add(row.object());
			}
		}
		// an object is ambiguous when a group that waits for it also holds a lock on it
		Set<LockObject> ambiguous = new HashSet<>();
		for (LockRow row : locks) {
			if (row.granted()) {
				List<LockObject> waited = waitedByGroup.get(group(row.pid(), sessions));
				if (waited != null && waited.contains(row.object())) {
					ambiguous.add(row.object());
				}
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

	/** A query text as kept under the query-text mode, and its command tag. */
	private record ShapedQuery(String text, String commandTag) {
	}

	/** The result set's column positions, looked up once per read instead of by name for every row. */
	private static final class Columns {

		final int locktype;

		final int database;

		final int relation;

		final int page;

		final int tuple;

		final int virtualxid;

		final int transactionid;

		final int classid;

		final int objid;

		final int objsubid;

		final int virtualtransaction;

		final int pid;

		final int mode;

		final int granted;

		final int waitstart;

		final int activityPid;

		final int leaderPid;

		final int datid;

		final int usename;

		final int applicationName;

		final int clientAddr;

		final int backendType;

		final int state;

		final int backendStart;

		final int xactStart;

		final int queryStart;

		final int stateChange;

		final int waitEventType;

		final int waitEvent;

		final int query;

		final int gid;

		final int preparedOwner;

		final int preparedDatabase;

		final int prepared;

		final int takenAt;

		final int monitorPid;

		final int serverVersionNum;

		final int readAllStats;

		final int currentDb;

		final int databaseOids;

		final int databaseNames;

		final int relationDatabases;

		final int relationOids;

		final int relationSchemas;

		final int relationNames;

		Columns(ResultSet rs) throws SQLException {
			this.locktype = rs.findColumn("locktype");
			this.database = rs.findColumn("database");
			this.relation = rs.findColumn("relation");
			this.page = rs.findColumn("page");
			this.tuple = rs.findColumn("tuple");
			this.virtualxid = rs.findColumn("virtualxid");
			this.transactionid = rs.findColumn("transactionid");
			this.classid = rs.findColumn("classid");
			this.objid = rs.findColumn("objid");
			this.objsubid = rs.findColumn("objsubid");
			this.virtualtransaction = rs.findColumn("virtualtransaction");
			this.pid = rs.findColumn("pid");
			this.mode = rs.findColumn("mode");
			this.granted = rs.findColumn("granted");
			this.waitstart = rs.findColumn("waitstart");
			this.activityPid = rs.findColumn("activity_pid");
			this.leaderPid = rs.findColumn("leader_pid");
			this.datid = rs.findColumn("datid");
			this.usename = rs.findColumn("usename");
			this.applicationName = rs.findColumn("application_name");
			this.clientAddr = rs.findColumn("client_addr");
			this.backendType = rs.findColumn("backend_type");
			this.state = rs.findColumn("state");
			this.backendStart = rs.findColumn("backend_start");
			this.xactStart = rs.findColumn("xact_start");
			this.queryStart = rs.findColumn("query_start");
			this.stateChange = rs.findColumn("state_change");
			this.waitEventType = rs.findColumn("wait_event_type");
			this.waitEvent = rs.findColumn("wait_event");
			this.query = rs.findColumn("query");
			this.gid = rs.findColumn("gid");
			this.preparedOwner = rs.findColumn("prepared_owner");
			this.preparedDatabase = rs.findColumn("prepared_database");
			this.prepared = rs.findColumn("prepared");
			this.takenAt = rs.findColumn("taken_at");
			this.monitorPid = rs.findColumn("monitor_pid");
			this.serverVersionNum = rs.findColumn("server_version_num");
			this.readAllStats = rs.findColumn("read_all_stats");
			this.currentDb = rs.findColumn("current_db");
			this.databaseOids = rs.findColumn("database_oids");
			this.databaseNames = rs.findColumn("database_names");
			this.relationDatabases = rs.findColumn("relation_databases");
			this.relationOids = rs.findColumn("relation_oids");
			this.relationSchemas = rs.findColumn("relation_schemas");
			this.relationNames = rs.findColumn("relation_names");
		}

	}

	/** Accumulates the result set. */
	private static final class Rows {

		final QueryTextMode queryText;

		/** The previous read's shaped texts, and this read's. */
		final Map<String, ShapedQuery> previouslyShaped;

		final Map<String, ShapedQuery> shaped = new HashMap<>();

		/** The previous read's database names: sessions are named with them, and renamed if this read's differ. */
		final Map<Long, String> knownDatabases;

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

		Rows(QueryTextMode queryText, Map<String, ShapedQuery> previouslyShaped, Map<Long, String> knownDatabases) {
			this.queryText = queryText;
			this.previouslyShaped = previouslyShaped;
			this.knownDatabases = knownDatabases;
		}

		/** The one row with the facts of the read and the names of the contended objects. */
		void meta(ResultSet rs, Columns c) throws SQLException {
			if (rs.getBoolean("in_recovery")) {
				// once per poll, and only on a standby: by name
				Map<String, Long> conflicts = new LinkedHashMap<>();
				for (String kind : Standby.CONFLICT_KINDS) {
					long count = rs.getLong("confl_" + kind);
					conflicts.put(kind, rs.wasNull() ? 0L : count);
				}
				int startup = rs.getInt("startup_pid");
				Integer startupPid = rs.wasNull() ? null : startup;
				Timestamp replayAt = rs.getTimestamp("replay_at");
				this.standby = new Standby((replayAt != null) ? replayAt.toInstant() : null, startupPid,
						rs.getString("replay_wait"), conflicts);
			}
			this.takenAt = rs.getTimestamp(c.takenAt).toInstant();
			this.monitorPid = rs.getInt(c.monitorPid);
			this.serverVersionNum = rs.getInt(c.serverVersionNum);
			this.readAllStats = rs.getBoolean(c.readAllStats);
			this.currentDatabase = rs.getLong(c.currentDb);
			long[] databases = longs(rs.getArray(c.databaseOids));
			String[] databaseNames = strings(rs.getArray(c.databaseNames));
			for (int i = 0; i < databases.length; i++) {
				this.databaseNames.put(databases[i], databaseNames[i]);
			}
			long[] relationDatabases = longs(rs.getArray(c.relationDatabases));
			long[] relations = longs(rs.getArray(c.relationOids));
			String[] schemas = strings(rs.getArray(c.relationSchemas));
			String[] names = strings(rs.getArray(c.relationNames));
			for (int i = 0; i < relations.length; i++) {
				this.localNames.put(LockSnapshot.relationKey(relationDatabases[i], relations[i]),
						RelationName.of(schemas[i], names[i]));
			}
		}

		/**
		 * Names sessions' databases (those named as read from the previous read's names are renamed only if this
		 * read's differ); local relations without a name were dropped since, the others are named over their own
		 * database.
		 */
		void resolveNames() {
			this.sessions.replaceAll((pid, s) -> {
				Long database = this.sessionDatabases.get(pid);
				String name = (database != null) ? this.databaseNames.get(database) : null;
				if (Objects.equals(name, s.database())) {
					return s;
				}
				return new SessionActivity(s.pid(), s.leaderPid(), name, s.user(), s.applicationName(), s.clientAddress(),
						s.backendType(), s.state(), s.backendStart(), s.transactionStart(), s.queryStart(), s.stateChange(),
						s.waitEventType(), s.waitEvent(), s.query(), s.commandTag());
			});
			// a queue is thousands of rows on a few relations: each relation is looked at once
			Set<Long> seenLocal = new HashSet<>();
			Set<Long> seenShared = new HashSet<>();
			for (LockRow row : this.locks) {
				Long database = row.object().database();
				Long relation = row.object().relation();
				if (database == null || relation == null) {
					continue;
				}
				if (database == this.currentDatabase || database == 0) {
					if (!((database == 0) ? seenShared : seenLocal).add(relation)) {
						continue;
					}
					this.localNames.computeIfAbsent(LockSnapshot.relationKey(database, relation),
							(k) -> RelationName.unresolved(String.valueOf(database), relation, "relation no longer exists"));
				}
				else {
					this.foreignRelations.computeIfAbsent(database, (k) -> new HashSet<>()).add(relation);
				}
			}
		}

		void add(ResultSet rs, Columns c, String lockType) throws SQLException {
			String mode = rs.getString(c.mode);
			LockMode lockMode = (mode == null) ? null : PG_MODES.get(mode);
			if (lockMode == null) {
				lockMode = LockMode.lookup(mode);
				if (lockMode == null) {
					return;
				}
			}
			Long database = getLong(rs, c.database);
			Long relation = getLong(rs, c.relation);
			String transactionId = rs.getString(c.transactionid);
			LockObject object = new LockObject(lockType, database, relation, getInt(rs, c.page), getInt(rs, c.tuple),
					rs.getString(c.virtualxid), transactionId == null ? null : Long.valueOf(transactionId),
					getLong(rs, c.classid), getLong(rs, c.objid), getInt(rs, c.objsubid));
			Integer pid = getInt(rs, c.pid);
			String vxid = rs.getString(c.virtualtransaction);
			this.locks.add(new LockRow(pid == null ? 0 : pid, vxid, object, lockMode, rs.getBoolean(c.granted),
					instant(rs, c.waitstart)));
			if (pid == null) {
				if (vxid != null && rs.getString(c.gid) != null) {
					this.prepared.putIfAbsent(vxid, new PreparedTransaction(vxid, rs.getString(c.gid),
							rs.getString(c.preparedOwner), rs.getString(c.preparedDatabase), instant(rs, c.prepared)));
				}
			}
			else if (!this.sessions.containsKey(pid) && getInt(rs, c.activityPid) != null) {
				// without pg_monitor another role's row has most columns null; the session is still real
				ShapedQuery query = shape(rs.getString(c.query));
				Long datid = getLong(rs, c.datid);
				this.sessionDatabases.put(pid, datid);
				this.sessions.put(pid,
						new SessionActivity(pid, getInt(rs, c.leaderPid), (datid != null) ? this.knownDatabases.get(datid) : null,
								rs.getString(c.usename), rs.getString(c.applicationName), rs.getString(c.clientAddr),
								rs.getString(c.backendType), rs.getString(c.state), instant(rs, c.backendStart),
								instant(rs, c.xactStart), instant(rs, c.queryStart), instant(rs, c.stateChange),
								rs.getString(c.waitEventType), rs.getString(c.waitEvent), query.text(), query.commandTag()));
			}
		}

		/** The text as the query-text mode keeps it, and its command tag: from this read, the previous one, or shaped now. */
		private ShapedQuery shape(String query) {
			if (query == null) {
				return new ShapedQuery(null, null);
			}
			ShapedQuery shaped = this.shaped.get(query);
			if (shaped == null) {
				shaped = this.previouslyShaped.get(query);
				if (shaped == null) {
					shaped = new ShapedQuery(this.queryText.apply(query), QueryTextRedactor.commandTag(query));
				}
				this.shaped.put(query, shaped);
			}
			return shaped;
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

		private static Long getLong(ResultSet rs, int column) throws SQLException {
			long value = rs.getLong(column);
			return rs.wasNull() ? null : value;
		}

		private static Integer getInt(ResultSet rs, int column) throws SQLException {
			int value = rs.getInt(column);
			return rs.wasNull() ? null : value;
		}

		/**
		 * A timestamptz as an instant. As OffsetDateTime the driver decodes the server's microseconds directly (getTimestamp
		 * goes through a Calendar), and a poll reads thousands of them.
		 */
		private static Instant instant(ResultSet rs, int column) throws SQLException {
			OffsetDateTime value = rs.getObject(column, OffsetDateTime.class);
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
