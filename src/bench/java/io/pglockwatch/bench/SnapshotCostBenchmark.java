package io.pglockwatch.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.graph.WaitEdge;
import io.pglockwatch.lock.LockSnapshot;
import io.pglockwatch.poll.LockSnapshotCollector;
import io.pglockwatch.poll.PollProperties;
import io.pglockwatch.poll.RelationNameResolver;
import io.pglockwatch.poll.TargetConnections;
import io.pglockwatch.poll.TargetsProperties;
import io.pglockwatch.sql.QueryTextMode;
import io.pglockwatch.testsupport.LockScenario;
import io.pglockwatch.testsupport.PostgresServer;

/**
 * What one poll costs with N sessions queued behind a waiting ALTER TABLE, next to what any lock monitor must pay
 * (the floor: pg_locks and pg_stat_activity in one joined read) and to the usual alternatives (pg_blocking_pids()
 * once per waiter, the classic self-join of pg_locks), measured side by side, interleaved, in the same run on a
 * real PostgreSQL server. Per N it also checks that the service's edges are exactly pg_blocking_pids().
 * <p>
 * Two views: server time (pg_stat_statements: planning + execution per call, what the target's CPU pays) and client wall time
 * (statement + transfer + decoding, plus for the service the graph; what a poll of the monitor takes).
 * <p>
 * Run with {@code bench/snapshot-cost.sh [N...]} (default 100 250 500 1000). The queue grows from one N to the
 * next: a holder idle in transaction, the ALTER TABLE waiting for AccessExclusiveLock, and behind it 4 readers
 * (AccessShareLock) for every writer (RowExclusiveLock).
 */
public final class SnapshotCostBenchmark {

	private static final int ROUNDS = 31;

	private static final int SELF_JOIN_ROUNDS = 3;

	/** A service polls every second for days: the JIT has long compiled the collector and the graph builder. */
	private static final int WARM_UP_ROUNDS = 30;

	/** What every monitor reads at least: every lock row with its session, all columns decoded. */
	public static final String FLOOR_SQL = """
			SELECT l.*, a.*
			FROM pg_catalog.pg_locks l
			LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
			""";

	/** The pg_blocking_pids() way: one call per waiting backend, on top of a read of the sessions. */
	static final String BLOCKING_PIDS_SQL = """
			SELECT a.pid, pg_catalog.pg_blocking_pids(a.pid) AS blockers
			FROM pg_catalog.pg_stat_activity a
			WHERE a.wait_event_type = 'Lock'
			""";

	/** The lock-monitoring query found on the PostgreSQL wiki and in many tools: pg_locks joined with itself. */
	static final String SELF_JOIN_SQL = """
			SELECT blocked.pid AS blocked_pid, blocking.pid AS blocking_pid, ba.query AS blocked_query, ka.query AS blocking_query
			FROM pg_catalog.pg_locks blocked
			JOIN pg_catalog.pg_stat_activity ba ON ba.pid = blocked.pid
			JOIN pg_catalog.pg_locks blocking ON blocking.locktype = blocked.locktype
			    AND blocking.database IS NOT DISTINCT FROM blocked.database
			    AND blocking.relation IS NOT DISTINCT FROM blocked.relation
			    AND blocking.page IS NOT DISTINCT FROM blocked.page
			    AND blocking.tuple IS NOT DISTINCT FROM blocked.tuple
			    AND blocking.virtualxid IS NOT DISTINCT FROM blocked.virtualxid
			    AND blocking.transactionid IS NOT DISTINCT FROM blocked.transactionid
			    AND blocking.classid IS NOT DISTINCT FROM blocked.classid
			    AND blocking.objid IS NOT DISTINCT FROM blocked.objid
			    AND blocking.objsubid IS NOT DISTINCT FROM blocked.objsubid
			    AND blocking.pid <> blocked.pid
			JOIN pg_catalog.pg_stat_activity ka ON ka.pid = blocking.pid
			WHERE NOT blocked.granted
			""";

	private SnapshotCostBenchmark() {
	}

	public static void main(String[] args) throws Exception {
		try {
			int[] sizes = args.length > 0 ? Arrays.stream(args).mapToInt(Integer::parseInt).sorted().toArray()
					: new int[] { 100, 250, 500, 1000 };
			PostgresServer server = PostgresServer.shared();
			String database = PostgresServer.DEFAULT_DATABASE;
			server.installFixtures(database);
			try (Connection setup = server.connect(database, "bench-setup"); Statement s = setup.createStatement()) {
				s.execute("DROP TABLE IF EXISTS bench_users; CREATE TABLE bench_users (id int PRIMARY KEY, name text)");
				s.execute("INSERT INTO bench_users SELECT g, 'u' || g FROM generate_series(1, 100) g");
				s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
			}
			List<Result> results = new ArrayList<>();
			TargetsProperties.Target target = new TargetsProperties.Target("bench", server.jdbcUrl(database),
					server.superuser(), server.password(), null);
			PollProperties poll = new PollProperties(Duration.ofSeconds(1), Duration.ofSeconds(30),
					Duration.ofSeconds(5), 2, Duration.ofSeconds(30));
			try (LockScenario scenario = new LockScenario(server, database, "cost");
					TargetConnections connections = new TargetConnections(target, poll)) {
				scenario.session("holder").execute("BEGIN; SELECT * FROM bench_users LIMIT 1");
				LockScenario.Session ddl = scenario.session("ddl");
				ddl.submit("ALTER TABLE bench_users ADD COLUMN email_verified boolean NOT NULL DEFAULT false");
				scenario.awaitWaiting(ddl, Duration.ofSeconds(20));
				LockSnapshotCollector collector = new LockSnapshotCollector("bench", QueryTextMode.REDACTED,
						new RelationNameResolver(connections, Clock.systemUTC()));
				int queued = 0;
				for (int n : sizes) {
					for (; queued < n; queued++) {
						scenario.session("q" + queued)
							.submit((queued % 5 == 4) ? "INSERT INTO bench_users VALUES (" + (1000 + queued) + ", 'x')"
									: "SELECT count(*) FROM bench_users");
					}
					scenario.awaitLockWaiters(n + 1, Duration.ofSeconds(120));
					Connection connection = connections.borrow();
					try {
						results.add(measure(n, connection, collector, scenario));
					}
					finally {
						connections.release(connection, false);
					}
					System.out.printf("N=%d measured%n", n);
					if (Boolean.getBoolean("bench.explain")) {
						explain(connections, n);
					}
				}
			}
			print(server, results);
		}
		finally {
			PostgresServer.closeShared();
		}
	}

	private static Result measure(int n, Connection connection, LockSnapshotCollector collector, LockScenario scenario)
			throws SQLException {
		long[] service = new long[ROUNDS];
		long[] graphOnly = new long[ROUNDS];
		long[] floor = new long[ROUNDS];
		long[] blocking = new long[ROUNDS];
		LockWaitGraph graph = null;
		LockSnapshot snapshot = null;
		for (int round = -WARM_UP_ROUNDS; round < ROUNDS; round++) {
			long t0 = System.nanoTime();
			snapshot = collector.read(connection);
			long tRead = System.nanoTime();
			graph = LockWaitGraph.of(snapshot);
			long t1 = System.nanoTime();
			readAll(connection, FLOOR_SQL);
			long t2 = System.nanoTime();
			readAll(connection, BLOCKING_PIDS_SQL);
			long t3 = System.nanoTime();
			if (round == -1) {
				resetStatements(connection);
			}
			if (round >= 0) {
				service[round] = t1 - t0;
				graphOnly[round] = t1 - tRead;
				floor[round] = t2 - t1;
				blocking[round] = t3 - t2;
			}
		}
		long[] selfJoin = new long[SELF_JOIN_ROUNDS];
		for (int round = 0; round < SELF_JOIN_ROUNDS; round++) {
			long t0 = System.nanoTime();
			readAll(connection, SELF_JOIN_SQL);
			selfJoin[round] = System.nanoTime() - t0;
		}
		Map<String, Double> server = statementMillis(connection);
		Map<Integer, Set<Integer>> truth = new HashMap<>(scenario.blockingPids());
		truth.values().removeIf(Set::isEmpty);
		Map<Integer, Set<Integer>> edges = new HashMap<>();
		for (WaitEdge edge : graph.edges()) {
			edges.computeIfAbsent(edge.waiterPid(), (k) -> new HashSet<>()).add(Math.max(0, edge.blockerPid()));
		}
		int depth = graph.deepestDdlQueue() == null ? 0 : graph.deepestDdlQueue().queueDepth();
		return new Result(n, snapshot.locks().size(), countRows(connection, "SELECT * FROM pg_catalog.pg_locks"),
				graph.edges().size(), depth, edges.equals(truth), median(service) / 1e6, p95(service) / 1e6,
				median(floor) / 1e6, p95(floor) / 1e6, median(blocking) / 1e6, median(selfJoin) / 1e6, median(graphOnly) / 1e6, server.get(LockSnapshotCollector.snapshotSql()),
				server.get(FLOOR_SQL), server.get(BLOCKING_PIDS_SQL), server.get(SELF_JOIN_SQL));
	}

	private static void print(PostgresServer server, List<Result> results) {
		System.out.println();
		System.out.printf("Snapshot cost, PostgreSQL %d (%s), %d cores, %d interleaved rounds per N after %d warm-up rounds "
				+ "(self-join: %d rounds)%n", server.majorVersion(), server.backendKind(),
				Runtime.getRuntime().availableProcessors(), ROUNDS, WARM_UP_ROUNDS, SELF_JOIN_ROUNDS);
		System.out.println();
		System.out.println("Server time (pg_stat_statements: planning + execution per call, mean, ms): what the target pays per poll");
		System.out.println();
		System.out.println("| N queued | pg_locks rows | the floor: pg_locks + pg_stat_activity joined | pg-lockwatch snapshot "
				+ "| ratio to floor | pg_blocking_pids() per waiter | classic self-join |");
		System.out.println("|---|---|---|---|---|---|---|");
		for (Result r : results) {
			System.out.printf("| %d | %d | %.2f | %.2f | %.2fx | %.2f (+ the reads) | %.1f |%n", r.n, r.lockRows,
					r.floorServer, r.serviceServer, r.serviceServer / r.floorServer, r.blockingServer, r.selfJoinServer);
		}
		System.out.println();
		System.out.println("Client wall time (ms): statement + transfer + decoding; the service's snapshot includes "
				+ "building the graph");
		System.out.println();
		System.out.println("| N queued | floor, median (p95) | pg-lockwatch read + graph, median (p95) | of which graph | ratio to floor "
				+ "| per queued session (µs) | pg_blocking_pids() per waiter | classic self-join | rows returned "
				+ "| edges | DDL queue depth | edges == pg_blocking_pids() |");
		System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|");
		for (Result r : results) {
			System.out.printf("| %d | %.2f (%.2f) | %.2f (%.2f) | %.2f | %.2fx | %.1f | %.2f | %.1f | %d | %d | %d | %s |%n", r.n,
					r.floorMs, r.floorP95, r.serviceMs, r.serviceP95, r.graphMs, r.serviceMs / r.floorMs, r.serviceMs * 1000 / r.n,
					r.blockingMs, r.selfJoinMs, r.rows, r.edges, r.depth, r.edgesMatch ? "yes" : "NO");
		}
		System.out.println();
		System.out.println("goal: pg-lockwatch snapshot <= 1.5x the floor at N = 1000, linear in N, edges identical");
	}

	/** With -Dbench.explain=true: the plan of the snapshot statement with per-node timing, to see where time goes. */
	private static void explain(TargetConnections connections, int n) throws SQLException {
		Connection connection = connections.borrow();
		try (Statement statement = connection.createStatement();
				ResultSet rs = statement.executeQuery("EXPLAIN (ANALYZE, BUFFERS) " + LockSnapshotCollector.snapshotSql())) {
			System.out.println("Plan of the snapshot statement at N=" + n + ":");
			while (rs.next()) {
				System.out.println(rs.getString(1));
			}
		}
		finally {
			connections.release(connection, false);
		}
	}

	/** Prepared like the service's own statement: after a few calls the driver reuses the server-side plan. */
	private static void readAll(Connection connection, String sql) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(sql); ResultSet rs = statement.executeQuery()) {
			int columns = rs.getMetaData().getColumnCount();
			while (rs.next()) {
				for (int i = 1; i <= columns; i++) {
					rs.getObject(i);
				}
			}
		}
	}

	private static int countRows(Connection connection, String sql) throws SQLException {
		int rows = 0;
		try (Statement statement = connection.createStatement(); ResultSet rs = statement.executeQuery(sql)) {
			while (rs.next()) {
				rows++;
			}
		}
		return rows;
	}

	private static void resetStatements(Connection connection) throws SQLException {
		try (Statement statement = connection.createStatement()) {
			statement.execute("SELECT pg_stat_statements_reset()");
		}
	}

	/**
	 * The server's own time per call (planning + execution, mean over the measured rounds) of each benchmarked
	 * statement, from pg_stat_statements: no per-node instrumentation as with EXPLAIN ANALYZE, no transfer.
	 */
	private static Map<String, Double> statementMillis(Connection connection) throws SQLException {
		Map<String, Double> result = new HashMap<>();
		try (Statement statement = connection.createStatement();
				ResultSet rs = statement.executeQuery("""
						SELECT query, (total_plan_time + total_exec_time) / calls AS per_call
						FROM pg_stat_statements WHERE calls > 0""")) {
			// pg_stat_statements shows constants as $n, so each statement is known by a fragment of its own
			Map<String, String> markers = Map.of("WITH l AS MATERIALIZED", LockSnapshotCollector.snapshotSql(),
					"SELECT l.*, a.*", FLOOR_SQL, "pg_blocking_pids(a.pid)", BLOCKING_PIDS_SQL,
					"blocked.pid AS blocked_pid", SELF_JOIN_SQL);
			while (rs.next()) {
				String query = rs.getString(1);
				double perCall = rs.getDouble(2);
				markers.forEach((marker, sql) -> {
					if (query.contains(marker) && !query.contains("EXPLAIN")) {
						result.put(sql, perCall);
					}
				});
			}
		}
		if (result.size() < 4) {
			throw new IllegalStateException("pg_stat_statements lacks some of the benchmarked statements: " + result.keySet());
		}
		return result;
	}

	private static double median(long[] values) {
		long[] sorted = values.clone();
		Arrays.sort(sorted);
		return sorted[sorted.length / 2];
	}

	private static double p95(long[] values) {
		long[] sorted = values.clone();
		Arrays.sort(sorted);
		return sorted[(int) Math.ceil(sorted.length * 0.95) - 1];
	}

	private static double median(double[] values) {
		double[] sorted = values.clone();
		Arrays.sort(sorted);
		return sorted[sorted.length / 2];
	}

	private record Result(int n, int rows, int lockRows, int edges, int depth, boolean edgesMatch, double serviceMs,
			double serviceP95, double floorMs, double floorP95, double blockingMs, double selfJoinMs, double graphMs, double serviceServer,
			double floorServer, double blockingServer, double selfJoinServer) {
	}

}
