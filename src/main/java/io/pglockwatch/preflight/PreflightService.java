package io.pglockwatch.preflight;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import io.pglockwatch.lock.LockMode;
import io.pglockwatch.poll.TargetConnections;
import io.pglockwatch.preflight.PreflightResult.Conflict;
import io.pglockwatch.preflight.PreflightResult.RelationCheck;
import io.pglockwatch.sql.QualifiedName;
import io.pglockwatch.sql.QueryTextMode;
import io.pglockwatch.sql.StatementLockModes.Classification;
import io.pglockwatch.sql.StatementLockModes.RelationLock;
import io.pglockwatch.sql.StatementLockModes;

/**
 * Answers "would this lock queue right now?" for a target: resolves the relations, reads who holds or waits for a
 * lock on them, and keeps those whose mode conflicts with the one asked for ({@link LockMode#conflictsWith}). A
 * waiter counts too: PostgreSQL queues a new request behind an earlier waiter it conflicts with.
 * <p>
 * Everything is read in one statement on one of the monitor's sessions (read-only, with lock_timeout and
 * statement_timeout). Names are resolved by joining pg_class and pg_namespace in search_path order, never by a
 * {@code ::regclass} cast, which would take a lock on the very relation a migration is about to queue for. The
 * answer is a snapshot, not a reservation.
 */
public final class PreflightService {

	/** Resolves the requested names and expands them through the catalog, as {@link StatementLockModes.Scope} says. */
	static final String RESOLVE_CTE = """
			WITH req AS (
			    SELECT r.ord, r.schema_name, r.rel_name, r.scope, r.detail
			    FROM unnest(?::text[], ?::text[], ?::text[], ?::text[])
			         WITH ORDINALITY AS r(schema_name, rel_name, scope, detail, ord)
			), resolved AS (
			    SELECT req.ord, req.scope, req.detail, found.oid
			    FROM req
			    LEFT JOIN LATERAL (
			        -- the first match along the search_path, as the server itself resolves an unqualified name
			        SELECT c.oid
			        FROM pg_catalog.pg_class c
			        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			        WHERE c.relname = req.rel_name
			          AND CASE WHEN req.schema_name IS NULL THEN n.nspname = ANY (pg_catalog.current_schemas(true))
			                   ELSE n.nspname = req.schema_name END
			        ORDER BY pg_catalog.array_position(pg_catalog.current_schemas(true), n.nspname)
			        LIMIT 1
			    ) found ON true
			), expanded AS (
			    SELECT r.ord, r.oid AS rel FROM resolved r WHERE r.scope = 'RELATION' AND r.oid IS NOT NULL
			    UNION
			    SELECT r.ord, i.indexrelid FROM resolved r JOIN pg_catalog.pg_index i ON i.indrelid = r.oid
			    WHERE r.scope = 'INDEXES'
			    UNION
			    SELECT r.ord, i.indrelid FROM resolved r JOIN pg_catalog.pg_index i ON i.indexrelid = r.oid
			    WHERE r.scope = 'TABLE'
			    UNION
			    SELECT r.ord, k.confrelid
			    FROM resolved r JOIN pg_catalog.pg_constraint k ON k.conrelid = r.oid AND k.contype = 'f'
			    WHERE r.scope = 'FOREIGN_KEY_TARGETS'
			       OR (r.scope = 'FOREIGN_KEY_TARGET_OF_CONSTRAINT' AND k.conname = r.detail)
			       OR (r.scope = 'FOREIGN_KEY_TARGETS_OF_COLUMN' AND EXISTS (
			            SELECT FROM pg_catalog.pg_attribute a
			            WHERE a.attrelid = r.oid AND a.attname = r.detail AND a.attnum = ANY (k.conkey)))
			    UNION
			    SELECT r.ord, k.conrelid
			    FROM resolved r JOIN pg_catalog.pg_constraint k ON k.confrelid = r.oid AND k.contype = 'f'
			    WHERE r.scope = 'FOREIGN_KEY_SOURCES'
			       OR (r.scope = 'FOREIGN_KEY_SOURCES_OF_COLUMN' AND EXISTS (
			            SELECT FROM pg_catalog.pg_attribute a
			            WHERE a.attrelid = r.oid AND a.attname = r.detail AND a.attnum = ANY (k.confkey)))
			)
			""";

	static final String CHECK_SQL = RESOLVE_CTE + """
			, meta AS (
			    SELECT pg_catalog.statement_timestamp() AS now, pg_catalog.pg_backend_pid() AS me,
			           (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()) AS db,
			           pg_catalog.array_to_string(pg_catalog.current_schemas(false), ', ') AS search_path
			), l AS MATERIALIZED (
			    SELECT l.relation, l.pid, l.mode, l.granted, l.virtualtransaction
			    FROM pg_catalog.pg_locks l, meta
			    WHERE l.locktype = 'relation' AND l.database = meta.db
			      AND l.relation IN (SELECT rel FROM expanded) AND l.pid IS DISTINCT FROM meta.me
			), prepared AS (
			    -- a prepared transaction's rows have no pid; its own transactionid lock ties them to its gid
			    SELECT l.virtualtransaction, p.gid, p.owner, p.prepared
			    FROM pg_catalog.pg_locks l
			    JOIN pg_catalog.pg_prepared_xacts p ON p.transaction = l.transactionid
			    WHERE l.pid IS NULL AND l.locktype = 'transactionid' AND l.granted
			)
			SELECT 'lock' AS row_kind, r.ord, r.oid AS requested_oid, e.rel, n.nspname, c.relname,
			       l.pid, l.mode, l.granted, a.state, a.application_name, coalesce(a.usename, p.owner) AS usename,
			       host(a.client_addr) AS client_addr,
			       extract(epoch FROM meta.now - coalesce(a.xact_start, p.prepared))::float8 AS xact_age,
			       a.xact_start, a.query, p.gid, meta.search_path
			FROM meta
			CROSS JOIN resolved r
			LEFT JOIN expanded e ON e.ord = r.ord
			LEFT JOIN pg_catalog.pg_class c ON c.oid = e.rel
			LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			LEFT JOIN l ON l.relation = e.rel
			LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
			LEFT JOIN prepared p ON l.pid IS NULL AND p.virtualtransaction = l.virtualtransaction
			UNION ALL
			-- what a CONCURRENTLY statement waits out: every open transaction of this database but the monitor's
			SELECT 'older', NULL, NULL, NULL, NULL, NULL,
			       a.pid, NULL, NULL, a.state, a.application_name, a.usename, host(a.client_addr),
			       extract(epoch FROM meta.now - a.xact_start)::float8, a.xact_start, a.query, NULL, meta.search_path
			FROM meta
			JOIN pg_catalog.pg_stat_activity a ON a.xact_start IS NOT NULL AND a.pid <> meta.me
			     AND a.backend_type = 'client backend' AND a.datname = pg_catalog.current_database()
			WHERE ?::boolean
			""";

	private final Function<String, TargetConnections> connections;

	private final QueryTextMode queryText;

	/**
	 * @param connections the sessions of a target by name, null for a target that is not watched
	 * @param queryText how much of a session's query text the result may carry
	 */
	public PreflightService(Function<String, TargetConnections> connections, QueryTextMode queryText) {
		this.connections = connections;
		this.queryText = queryText;
	}

	/** Would {@code mode} on {@code relation} queue right now? */
	public PreflightResult check(String target, String relation, LockMode mode) {
		QualifiedName.parse(relation);
		return check(target, new Classification(mode, List.of(new RelationLock(relation, mode)), false, null));
	}

	/**
	 * Would the statement classified as {@code classification} queue right now?
	 * @throws UnknownRelationException when a relation the statement names does not exist
	 * @throws TargetUnavailableException when the target cannot be read
	 */
	public PreflightResult check(String target, Classification classification) {
		TargetConnections sessions = this.connections.apply(target);
		if (sessions == null) {
			throw new TargetUnavailableException("target " + target + " is not connected (the monitor is not running)",
					null);
		}
		Connection connection = null;
		boolean broken = false;
		try {
			connection = sessions.borrow();
			return read(connection, target, classification);
		}
		catch (SQLException ex) {
			broken = true;
			throw new TargetUnavailableException("target " + target + " cannot be read: " + ex.getMessage(), ex);
		}
		finally {
			sessions.release(connection, broken);
		}
	}

	private PreflightResult read(Connection connection, String target, Classification classification)
			throws SQLException {
		List<RelationLock> requests = classification.relations();
		Rows rows = new Rows();
		try (PreparedStatement statement = connection.prepareStatement(CHECK_SQL)) {
			bindRequests(connection, statement, requests);
			statement.setBoolean(5, classification.concurrently());
			try (ResultSet rs = statement.executeQuery()) {
				while (rs.next()) {
					rows.add(rs, requests, this.queryText);
				}
			}
		}
		if (!rows.unknown.isEmpty()) {
			throw new UnknownRelationException(target, rows.unknown, rows.searchPath);
		}
		List<Conflict> conflicts = new ArrayList<>();
		Set<List<Object>> seen = new LinkedHashSet<>();
		for (LockRow lock : rows.locks) {
			LockMode requested = LockMode.of(rows.checks.get(lock.oid()).mode());
			LockMode held = LockMode.lookup(lock.conflict().mode());
			if (held != null && requested.conflictsWith(held) && seen.add(List.of(lock.oid(), lock.conflict()))) {
				conflicts.add(lock.conflict());
			}
		}
		// who would go first: the holders, then the waiters; the oldest transactions first
		conflicts.sort(Comparator.comparing((Conflict c) -> !Boolean.TRUE.equals(c.granted()))
			.thenComparing(Conflict::transactionAgeSeconds, Comparator.nullsLast(Comparator.reverseOrder())));
		List<Conflict> older = new ArrayList<>(rows.older);
		older.sort(Comparator.comparing(Conflict::transactionAgeSeconds, Comparator.nullsLast(Comparator.reverseOrder())));
		boolean safe = conflicts.isEmpty() && older.isEmpty();
		String mode = (classification.mode() != null) ? classification.mode().pgName() : null;
		return new PreflightResult(safe, mode, List.copyOf(rows.checks.values()), conflicts, older);
	}

	/** Binds parameters 1-4 of {@link #RESOLVE_CTE}: schema, name, scope and detail of each request. */
	static void bindRequests(Connection connection, PreparedStatement statement, List<RelationLock> requests)
			throws SQLException {
		String[] schemas = new String[requests.size()];
		String[] names = new String[requests.size()];
		String[] scopes = new String[requests.size()];
		String[] details = new String[requests.size()];
		for (int i = 0; i < requests.size(); i++) {
			QualifiedName name = requests.get(i).name();
			schemas[i] = name.schema();
			names[i] = name.name();
			scopes[i] = requests.get(i).scope().name();
			details[i] = requests.get(i).detail();
		}
		statement.setArray(1, connection.createArrayOf("text", schemas));
		statement.setArray(2, connection.createArrayOf("text", names));
		statement.setArray(3, connection.createArrayOf("text", scopes));
		statement.setArray(4, connection.createArrayOf("text", details));
	}

	private record LockRow(long oid, Conflict conflict) {
	}

	/** Accumulates the result set. */
	private static final class Rows {

		final Map<Long, RelationCheck> checks = new LinkedHashMap<>();

		final List<LockRow> locks = new ArrayList<>();

		final List<Conflict> older = new ArrayList<>();

		final Set<String> unknown = new LinkedHashSet<>();

		String searchPath;

		void add(ResultSet rs, List<RelationLock> requests, QueryTextMode queryText) throws SQLException {
			this.searchPath = rs.getString("search_path");
			Integer pid = integer(rs, "pid");
			String state = rs.getString("state");
			String gid = rs.getString("gid");
			if ("older".equals(rs.getString("row_kind"))) {
				this.older.add(new Conflict(pid, null, null, null, state, rs.getString("application_name"),
						rs.getString("usename"), rs.getString("client_addr"), age(rs), queryText.apply(rs.getString("query")),
						null));
				return;
			}
			RelationLock request = requests.get(rs.getInt("ord") - 1);
			if (rs.getObject("requested_oid") == null) {
				this.unknown.add(request.relation());
				return;
			}
			if (rs.getObject("rel") == null) {
				return; // e.g. the indexes of a table that has none
			}
			long oid = rs.getLong("rel");
			String name = rs.getString("nspname") + "." + rs.getString("relname");
			RelationCheck known = this.checks.get(oid);
			if (known == null || LockMode.of(known.mode()).ordinal() < request.mode().ordinal()) {
				String requested = (known != null) ? known.requested() : request.relation();
				this.checks.put(oid, new RelationCheck(name, requested, request.mode().pgName(), oid));
			}
			String mode = rs.getString("mode");
			if (mode != null) {
				this.locks.add(new LockRow(oid, new Conflict(pid, name, mode, rs.getBoolean("granted"),
						(gid != null) ? "prepared" : state, rs.getString("application_name"), rs.getString("usename"),
						rs.getString("client_addr"), age(rs), queryText.apply(rs.getString("query")), gid)));
			}
		}

		private static Integer integer(ResultSet rs, String column) throws SQLException {
			int value = rs.getInt(column);
			return rs.wasNull() ? null : value;
		}

		private static Double age(ResultSet rs) throws SQLException {
			double seconds = rs.getDouble("xact_age");
			// millisecond precision, as everywhere in the API
			return rs.wasNull() ? null : Math.round(seconds * 1000) / 1000.0;
		}

	}

	/** A relation to check does not exist in the target's database: the caller's mistake (400). */
	public static final class UnknownRelationException extends IllegalArgumentException {

		/**
		 * @param relations the names as asked
		 * @param searchPath the search_path they were looked up in
		 */
		public UnknownRelationException(String target, Set<String> relations, String searchPath) {
			super(((relations.size() == 1) ? "relation " : "relations ")
					+ String.join(", ", relations.stream().map((r) -> "'" + r + "'").toList()) + " not found on target "
					+ target + " (unqualified names are looked up in the monitor's search_path: " + searchPath
					+ "; quote mixed-case names)");
		}

	}

	/** The target cannot be read right now (503). */
	public static final class TargetUnavailableException extends RuntimeException {

		public TargetUnavailableException(String message, Throwable cause) {
			super(message, cause);
		}

	}

}
