package io.pglockwatch.poll;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;

import io.pglockwatch.graph.DdlQueue;
import io.pglockwatch.graph.EdgeKind;
import io.pglockwatch.graph.LockWait;
import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.graph.RootBlocker;
import io.pglockwatch.graph.SessionNode;
import io.pglockwatch.graph.WaitEdge;
import io.pglockwatch.lock.LockMode;
import io.pglockwatch.lock.LockSnapshot;
import io.pglockwatch.lock.RelationName;
import io.pglockwatch.lock.SessionActivity;
import io.pglockwatch.sql.QueryTextMode;
import io.pglockwatch.testsupport.LockScenario;
import io.pglockwatch.testsupport.PostgresServer;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every lock situation pg-lockwatch must see, staged for real on PostgreSQL 14 and 18 with concurrent
 * sessions, read by the collector and built into a graph. In each, the edges must equal what
 * pg_blocking_pids() says for every waiter.
 */
@ParameterizedClass(name = "PostgreSQL {0}")
@ValueSource(ints = { 14, 18 })
class LockScenariosIntegrationTests {

	private static final Duration WAIT = Duration.ofSeconds(20);

	@Parameter
	int version;

	private PostgresServer server;

	private TargetConnections connections;

	private LockSnapshotCollector collector;

	private LockScenario scenario;

	@BeforeEach
	void setUp() {
		this.server = PostgresServer.shared(this.version);
		this.server.installFixtures(PostgresServer.DEFAULT_DATABASE);
		this.connections = connections(this.server, PostgresServer.DEFAULT_DATABASE);
		this.collector = new LockSnapshotCollector("lab", QueryTextMode.REDACTED,
				new RelationNameResolver(this.connections, Clock.systemUTC()));
		this.scenario = new LockScenario(this.server, PostgresServer.DEFAULT_DATABASE, "it" + this.version);
	}

	@AfterEach
	void tearDown() {
		this.scenario.close();
		this.connections.close();
	}

	static TargetConnections connections(PostgresServer server, String database) {
		TargetsProperties.Target target = new TargetsProperties.Target("lab", server.jdbcUrl(database),
				server.superuser(), server.password(), null);
		PollProperties poll = new PollProperties(Duration.ofSeconds(1), Duration.ofSeconds(2),
				Duration.ofMillis(100), 2, Duration.ofSeconds(5));
		return new TargetConnections(target, poll);
	}

	private LockWaitGraph poll() throws SQLException {
		Connection connection = this.connections.borrow();
		try {
			return LockWaitGraph.of(this.collector.read(connection));
		}
		finally {
			this.connections.release(connection, false);
		}
	}

	/** The graph's edges, per waiter pid, as pg_blocking_pids reports them (prepared transactions as 0). */
	private static Map<Integer, Set<Integer>> blockersByWaiter(LockWaitGraph graph) {
		Map<Integer, Set<Integer>> result = new HashMap<>();
		for (WaitEdge edge : graph.edges()) {
			result.computeIfAbsent(edge.waiterPid(), (k) -> new HashSet<>()).add(Math.max(0, edge.blockerPid()));
		}
		return result;
	}

	private void assertEdgesEqualServer(LockWaitGraph graph) {
		Map<Integer, Set<Integer>> server = new HashMap<>(this.scenario.blockingPids());
		server.values().removeIf(Set::isEmpty);
		assertThat(blockersByWaiter(graph)).as("edges vs pg_blocking_pids()").isEqualTo(server);
	}

	private static EdgeKind kind(LockWaitGraph graph, int waiter, int blocker) {
		return graph.edges()
			.stream()
			.filter((e) -> e.waiterPid() == waiter && e.blockerPid() == blocker)
			.map(WaitEdge::kind)
			.findFirst()
			.orElse(null);
	}

	@Test
	void alterTableWithTwentyQueuedReaders() throws Exception {
		LockScenario.Session holder = this.scenario.session("holder");
		holder.execute("BEGIN; SELECT * FROM users LIMIT 1");
		LockScenario.Session ddl = this.scenario.session("ddl");
		ddl.submit("ALTER TABLE users ADD COLUMN email_verified boolean NOT NULL DEFAULT false");
		this.scenario.awaitWaiting(ddl, WAIT);
		List<LockScenario.Session> readers = new ArrayList<>();
		for (int i = 1; i <= 20; i++) {
			LockScenario.Session reader = this.scenario.session("reader" + i);
			reader.submit("SELECT count(*) FROM users WHERE name <> 'secret-literal'");
			this.scenario.awaitLockWaiters(i + 1, WAIT);
			readers.add(reader);
		}

		LockWaitGraph graph = poll();

		assertEdgesEqualServer(graph);
		assertThat(kind(graph, ddl.pid(), holder.pid())).isEqualTo(EdgeKind.HARD);
		for (LockScenario.Session reader : readers) {
			assertThat(kind(graph, reader.pid(), ddl.pid())).isEqualTo(EdgeKind.SOFT);
			assertThat(kind(graph, reader.pid(), holder.pid())).isNull();
		}
		assertThat(graph.rootBlockers()).extracting(RootBlocker::pid, RootBlocker::blockedCount).containsExactly(Tuple.tuple(holder.pid(), 21));
		assertThat(graph.ddlQueues()).hasSize(1);
		DdlQueue queue = graph.ddlQueues().get(0);
		assertThat(queue.pid()).isEqualTo(ddl.pid());
		assertThat(queue.relation()).isEqualTo("public.users");
		assertThat(queue.mode()).isEqualTo(LockMode.ACCESS_EXCLUSIVE);
		assertThat(queue.queueDepth()).isEqualTo(20);
		assertThat(queue.rootBlockerPids()).containsExactly(holder.pid());
		assertThat(queue.queued()).extracting(DdlQueue.Queued::pid)
			.containsExactlyElementsOf(readers.stream().map(LockScenario.Session::pid).toList());
		assertThat(queue.queued()).extracting(DdlQueue.Queued::position)
			.containsExactlyElementsOf(IntStream.rangeClosed(2, 21).boxed().toList());
		SessionNode reader = graph.sessions().get(readers.get(0).pid());
		assertThat(reader.activity().query()).isEqualTo("SELECT count(*) FROM users WHERE name <> ?");
		assertThat(reader.activity().applicationName()).isEqualTo(readers.get(0).applicationName());
		assertThat(graph.sessions().get(holder.pid()).isIdleInTransaction()).isTrue();
	}

	@Test
	void consecutiveReadsShapeNameAndTimeSessionsAlike() throws Exception {
		LockScenario.Session holder = this.scenario.session("holder");
		holder.execute("BEGIN; SELECT * FROM users LIMIT 1");
		LockScenario.Session ddl = this.scenario.session("ddl");
		ddl.submit("ALTER TABLE users ADD COLUMN read_twice boolean");
		this.scenario.awaitWaiting(ddl, WAIT);
		LockScenario.Session reader = this.scenario.session("reader");
		reader.submit("SELECT count(*) FROM users WHERE name <> 'secret-literal'");
		this.scenario.awaitLockWaiters(2, WAIT);

		// the second read takes query texts and database names from what the first one kept
		LockWaitGraph first = poll();
		LockWaitGraph second = poll();

		for (LockScenario.Session session : List.of(holder, ddl, reader)) {
			assertThat(second.sessions().get(session.pid()).activity()).isEqualTo(first.sessions().get(session.pid()).activity());
		}
		SessionActivity activity = second.sessions().get(reader.pid()).activity();
		assertThat(activity.query()).isEqualTo("SELECT count(*) FROM users WHERE name <> ?");
		assertThat(activity.commandTag()).isEqualTo("SELECT");
		assertThat(activity.database()).isEqualTo(PostgresServer.DEFAULT_DATABASE);
		try (Connection connection = this.server.connect(PostgresServer.DEFAULT_DATABASE, "read-twice-check");
				Statement statement = connection.createStatement();
				ResultSet rs = statement.executeQuery("SELECT a.backend_start, a.query_start, l.waitstart FROM pg_stat_activity a "
						+ "JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted WHERE a.pid = " + reader.pid())) {
			assertThat(rs.next()).isTrue();
			assertThat(activity.backendStart()).isEqualTo(rs.getObject(1, OffsetDateTime.class).toInstant());
			assertThat(activity.queryStart()).isEqualTo(rs.getObject(2, OffsetDateTime.class).toInstant());
			assertThat(second.sessions().get(reader.pid()).waits()).singleElement()
				.extracting(LockWait::waitStart)
				.isEqualTo(rs.getObject(3, OffsetDateTime.class).toInstant());
		}
	}

	@Test
	void monitorSessionNeverBlocksAnyone() throws Exception {
		AtomicBoolean stop = new AtomicBoolean();
		Set<Integer> monitorPids = ConcurrentHashMap.newKeySet();
		CompletableFuture<Void> polling = CompletableFuture.runAsync(() -> {
			while (!stop.get()) {
				try {
					Connection connection = this.connections.borrow();
					try {
						monitorPids.add(this.collector.read(connection).monitorPid());
					}
					finally {
						this.connections.release(connection, false);
					}
				}
				catch (SQLException ex) {
					throw new IllegalStateException(ex);
				}
			}
		});
		LockScenario.Session holder = this.scenario.session("holder");
		holder.execute("BEGIN; SELECT * FROM users LIMIT 1");
		LockScenario.Session ddl = this.scenario.session("ddl");
		ddl.submit("ALTER TABLE users ADD COLUMN email_verified boolean NOT NULL DEFAULT false");
		this.scenario.awaitWaiting(ddl, WAIT);
		Set<Integer> everBlocking = new HashSet<>();
		for (int i = 1; i <= 10; i++) {
			this.scenario.session("reader" + i).submit("SELECT count(*) FROM users");
			this.scenario.blockingPids().values().forEach(everBlocking::addAll);
		}
		this.scenario.awaitLockWaiters(11, WAIT);
		for (int i = 0; i < 20; i++) {
			this.scenario.blockingPids().values().forEach(everBlocking::addAll);
		}
		stop.set(true);
		polling.get();
		assertThat(monitorPids).isNotEmpty();
		assertThat(everBlocking).doesNotContainAnyElementsOf(monitorPids).contains(holder.pid(), ddl.pid());
	}

	@Test
	void createIndexQueuesInserts() throws Exception {
		LockScenario.Session writer = this.scenario.session("writer");
		writer.execute("BEGIN; UPDATE orders SET status = 'paid' WHERE id = 1");
		LockScenario.Session ddl = this.scenario.session("ddl");
		ddl.submit("CREATE INDEX orders_status_idx ON orders (status)");
		this.scenario.awaitWaiting(ddl, WAIT);
		for (int i = 1; i <= 5; i++) {
			this.scenario.session("insert" + i).submit("INSERT INTO orders (user_id, amount, status) VALUES (1, 1, 'new')");
		}
		this.scenario.awaitLockWaiters(6, WAIT);

		LockWaitGraph graph = poll();

		assertEdgesEqualServer(graph);
		assertThat(kind(graph, ddl.pid(), writer.pid())).isEqualTo(EdgeKind.HARD);
		assertThat(graph.ddlQueues()).singleElement().satisfies((q) -> {
			assertThat(q.pid()).isEqualTo(ddl.pid());
			assertThat(q.mode()).isEqualTo(LockMode.SHARE);
			assertThat(q.relation()).isEqualTo("public.orders");
			assertThat(q.queueDepth()).isEqualTo(5);
		});
	}

	@Test
	void idleInTransactionRoot() throws Exception {
		LockScenario.Session idle = this.scenario.session("idle");
		idle.execute("BEGIN; SELECT * FROM idle_t");
		LockScenario.Session ddl = this.scenario.session("ddl");
		ddl.submit("ALTER TABLE idle_t ADD COLUMN note text");
		this.scenario.awaitWaiting(ddl, WAIT);
		for (int i = 1; i <= 3; i++) {
			this.scenario.session("api" + i).submit("SELECT * FROM idle_t WHERE id = 1");
		}
		this.scenario.awaitLockWaiters(4, WAIT);

		LockWaitGraph graph = poll();

		assertEdgesEqualServer(graph);
		assertThat(graph.rootBlockers()).singleElement().satisfies((root) -> {
			assertThat(root.pid()).isEqualTo(idle.pid());
			assertThat(graph.sessions().get(root.pid()).state()).isEqualTo("idle in transaction");
		});
		assertThat(graph.ddlQueues()).singleElement().satisfies((q) -> assertThat(q.queueDepth()).isEqualTo(3));
	}

	@Test
	void rowLockChain() throws Exception {
		LockScenario.Session first = this.scenario.session("first");
		first.execute("BEGIN; UPDATE accounts SET balance = balance + 1 WHERE id = 1");
		LockScenario.Session second = this.scenario.session("second");
		second.submit("UPDATE accounts SET balance = balance + 1 WHERE id = 1");
		this.scenario.awaitWaiting(second, WAIT);
		for (int i = 1; i <= 3; i++) {
			this.scenario.session("next" + i).submit("UPDATE accounts SET balance = balance + 1 WHERE id = 1");
			this.scenario.awaitLockWaiters(i + 1, WAIT);
		}

		LockWaitGraph graph = poll();

		assertEdgesEqualServer(graph);
		assertThat(graph.rootBlockers()).extracting(RootBlocker::pid, RootBlocker::blockedCount).containsExactly(Tuple.tuple(first.pid(), 4));
		assertThat(graph.ddlQueues()).isEmpty();
		assertThat(graph.edges()).extracting(WaitEdge::lockType).contains("transactionid", "tuple");
	}

	@Test
	void advisoryLocks() throws Exception {
		LockScenario.Session owner = this.scenario.session("owner");
		owner.execute("SELECT pg_advisory_lock(4242)");
		this.scenario.session("exclusive1").submit("SELECT pg_advisory_lock(4242)");
		this.scenario.awaitLockWaiters(1, WAIT);
		this.scenario.session("shared").submit("SELECT pg_advisory_lock_shared(4242)");
		this.scenario.awaitLockWaiters(2, WAIT);
		this.scenario.session("exclusive2").submit("SELECT pg_advisory_lock(4242)");
		this.scenario.awaitLockWaiters(3, WAIT);

		LockWaitGraph graph = poll();

		assertEdgesEqualServer(graph);
		assertThat(graph.rootBlockers()).extracting(RootBlocker::pid).containsExactly(owner.pid());
		assertThat(graph.ddlQueues()).isEmpty();
		assertThat(graph.edges()).allSatisfy((e) -> assertThat(e.object()).isEqualTo("advisory 4242"));
	}

	@Test
	void ddlThatNeverWaitsIsNoQueue() throws Exception {
		LockScenario.Session ddl = this.scenario.session("ddl");
		ddl.execute("BEGIN; ALTER TABLE idle_t ADD COLUMN scratch int");
		for (int i = 0; i < 5; i++) {
			LockWaitGraph graph = poll();
			assertThat(graph.ddlQueues()).isEmpty();
			assertThat(graph.edges()).isEmpty();
		}
		LockScenario.Session other = this.scenario.session("other");
		for (int i = 0; i < 10; i++) {
			other.execute("ALTER TABLE orders ADD COLUMN IF NOT EXISTS scratch int; ALTER TABLE orders DROP COLUMN scratch");
			assertThat(poll().ddlQueues()).isEmpty();
		}
		ddl.execute("ROLLBACK");
	}

	@Test
	void preparedTransactionHoldingALockIsANode() throws Exception {
		try (Connection admin = this.server.connect(PostgresServer.DEFAULT_DATABASE, "it-admin");
				Statement statement = admin.createStatement()) {
			statement.execute("ROLLBACK PREPARED 'pglockwatch-it'");
		}
		catch (SQLException ex) {
			// none left over
		}
		LockScenario.Session preparer = this.scenario.session("preparer");
		preparer.execute("BEGIN; UPDATE orders SET status = 'held' WHERE id = 2; PREPARE TRANSACTION 'pglockwatch-it'");
		try {
			LockScenario.Session ddl = this.scenario.session("ddl");
			ddl.submit("CREATE INDEX orders_amount_idx ON orders (amount)");
			this.scenario.awaitWaiting(ddl, WAIT);
			this.scenario.session("insert").submit("INSERT INTO orders (user_id, amount, status) VALUES (1, 1, 'new')");
			this.scenario.awaitLockWaiters(2, WAIT);

			LockWaitGraph graph = poll();

			assertEdgesEqualServer(graph);
			SessionNode prepared = graph.sessions().values().stream().filter((n) -> n.prepared() != null).findFirst().orElseThrow();
			assertThat(prepared.prepared().gid()).isEqualTo("pglockwatch-it");
			assertThat(prepared.pid()).isZero();
			assertThat(graph.ddlQueues()).singleElement().satisfies((q) -> assertThat(q.rootBlockerPids()).containsExactly(prepared.id()));
		}
		finally {
			this.scenario.close();
			try (Connection admin = this.server.connect(PostgresServer.DEFAULT_DATABASE, "it-admin");
					Statement statement = admin.createStatement()) {
				statement.execute("ROLLBACK PREPARED 'pglockwatch-it'");
			}
		}
	}

	@Test
	void waitInASecondDatabaseHasItsRelationNamed() throws Exception {
		this.server.createDatabase("lab2");
		this.server.installFixtures("lab2");
		try (LockScenario other = new LockScenario(this.server, "lab2", "it2db" + this.version)) {
			LockScenario.Session holder = other.session("holder");
			holder.execute("BEGIN; SELECT * FROM orders LIMIT 1");
			LockScenario.Session ddl = other.session("ddl");
			ddl.submit("ALTER TABLE orders ADD COLUMN note text");
			other.awaitWaiting(ddl, WAIT);
			other.session("reader").submit("SELECT count(*) FROM orders");
			other.awaitLockWaiters(2, WAIT);

			LockWaitGraph graph = poll();

			assertThat(blockersByWaiter(graph)).isEqualTo(withoutEmpty(other.blockingPids()));
			assertThat(graph.ddlQueues()).singleElement().satisfies((q) -> {
				assertThat(q.relation()).isEqualTo("public.orders");
				assertThat(q.pid()).isEqualTo(ddl.pid());
			});
			assertThat(graph.sessions().get(ddl.pid()).activity().database()).isEqualTo("lab2");
			assertThat(graph.sessions().get(ddl.pid()).activity().user()).isEqualTo(this.server.superuser());
		}
	}

	/**
	 * A relation whose name has a space, a dot, a quote, capitals or is a keyword is shown as PostgreSQL quotes it,
	 * so that {@code public."my table"} cannot be read as another relation and pastes back into SQL as itself.
	 */
	@Test
	void oddRelationNamesAreQuotedAsQuoteIdentQuotesThem() throws Exception {
		String[] tables = { "my table", "Weird.Name", "a\"b", "select", "plain_name1" };
		try (Connection c = this.server.connect(PostgresServer.DEFAULT_DATABASE, "it-quote-setup");
				Statement s = c.createStatement()) {
			s.execute("CREATE SCHEMA IF NOT EXISTS \"Odd Schema\"");
			for (String table : tables) {
				s.execute("CREATE TABLE IF NOT EXISTS \"Odd Schema\"." + sqlIdentifier(table) + " (id int)");
			}
		}
		try {
			for (String table : tables) {
				String written = "\"Odd Schema\"." + sqlIdentifier(table);
				String expected;
				try (Connection c = this.server.connect(PostgresServer.DEFAULT_DATABASE, "it-quote-ask");
						Statement s = c.createStatement();
						var rs = s.executeQuery("SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) "
								+ "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = '"
								+ written.replace("'", "''") + "'::regclass")) {
					rs.next();
					expected = rs.getString(1);
				}
				try (LockScenario quoting = new LockScenario(this.server, PostgresServer.DEFAULT_DATABASE,
						"itq" + this.version)) {
					quoting.stageDdlQueue(written, "ADD COLUMN note text", 1);
					assertThat(poll().ddlQueues()).singleElement()
						.extracting(DdlQueue::relation)
						.isEqualTo(expected);
				}
			}
			assertThat(RelationName.of("Odd Schema", "a\"b").name()).isEqualTo("\"Odd Schema\".\"a\"\"b\"");
			assertThat(RelationName.of("public", "users").name()).isEqualTo("public.users");
			// every keyword the server knows: quoted exactly when quote_ident quotes it
			try (Connection c = this.server.connect(PostgresServer.DEFAULT_DATABASE, "it-quote-words");
					Statement s = c.createStatement();
					var rs = s.executeQuery("SELECT word, quote_ident(word) FROM pg_get_keywords()")) {
				int words = 0;
				while (rs.next()) {
					assertThat(RelationName.quoted(rs.getString(1))).as(rs.getString(1)).isEqualTo(rs.getString(2));
					words++;
				}
				assertThat(words).isGreaterThan(400);
			}
		}
		finally {
			try (Connection c = this.server.connect(PostgresServer.DEFAULT_DATABASE, "it-quote-setup");
					Statement s = c.createStatement()) {
				s.execute("DROP SCHEMA \"Odd Schema\" CASCADE");
			}
		}
	}

	private static String sqlIdentifier(String name) {
		return "\"" + name.replace("\"", "\"\"") + "\"";
	}

	private static Map<Integer, Set<Integer>> withoutEmpty(Map<Integer, Set<Integer>> blockers) {
		Map<Integer, Set<Integer>> result = new HashMap<>(blockers);
		result.values().removeIf(Set::isEmpty);
		return result;
	}


	@Test
	void aRoleWithoutPgMonitorStillSeesEverySessionAndEdge() throws Exception {
		this.server.createRole("plainwatcher", "plain-pw");
		TargetsProperties.Target target = new TargetsProperties.Target("lab",
				this.server.jdbcUrl(PostgresServer.DEFAULT_DATABASE), "plainwatcher", "plain-pw", null);
		try (TargetConnections plain = new TargetConnections(target, new PollProperties(Duration.ofSeconds(1),
				Duration.ofSeconds(2), Duration.ofMillis(100), 2, Duration.ofSeconds(5)))) {
			LockSnapshotCollector unprivileged = new LockSnapshotCollector("lab", QueryTextMode.REDACTED,
					new RelationNameResolver(plain, Clock.systemUTC()));
			LockScenario.Session holder = this.scenario.session("holder");
			holder.execute("BEGIN; SELECT * FROM users LIMIT 1");
			LockScenario.Session ddl = this.scenario.session("ddl");
			ddl.submit("ALTER TABLE users ADD COLUMN email_verified boolean NOT NULL DEFAULT false");
			this.scenario.awaitWaiting(ddl, WAIT);
			for (int i = 1; i <= 3; i++) {
				this.scenario.session("r" + i).submit("SELECT count(*) FROM users");
			}
			this.scenario.awaitLockWaiters(4, WAIT);

			Connection connection = plain.borrow();
			LockSnapshot snapshot;
			try {
				snapshot = unprivileged.read(connection);
			}
			finally {
				plain.release(connection, false);
			}
			LockWaitGraph graph = LockWaitGraph.of(snapshot);

			assertThat(snapshot.readAllStats()).isFalse();
			assertEdgesEqualServer(graph);
			assertThat(graph.ddlQueues()).singleElement().satisfies((q) -> assertThat(q.queueDepth()).isEqualTo(3));
			SessionNode hidden = graph.sessions().get(holder.pid());
			assertThat(hidden.activity()).isNotNull();
			assertThat(hidden.activity().query()).isEqualTo("<insufficient privilege>");
			assertThat(hidden.activity().state()).isNull();
		}
	}

}
