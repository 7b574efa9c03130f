package io.pglockwatch.preflight;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import io.pglockwatch.lock.LockMode;
import io.pglockwatch.poll.PollProperties;
import io.pglockwatch.poll.TargetConnections;
import io.pglockwatch.poll.TargetsProperties;
import io.pglockwatch.preflight.PreflightResult.Conflict;
import io.pglockwatch.preflight.PreflightResult.RelationCheck;
import io.pglockwatch.sql.QueryTextMode;
import io.pglockwatch.sql.StatementLockModes;
import io.pglockwatch.testsupport.LockScenario;
import io.pglockwatch.testsupport.PostgresServer;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Preflight against real sessions on the shared PostgreSQL server's lab database: the fixture tables {@code users}
 * and {@code orders} and a few tables of its own, read through the monitor's own kind of session.
 */
class PreflightServiceIntegrationTests {

	private static final PostgresServer server = PostgresServer.shared();

	private static final PollProperties POLL = new PollProperties(Duration.ofSeconds(1),
			Duration.ofSeconds(2), Duration.ofMillis(100), 2, Duration.ofSeconds(5));

	private static TargetConnections lab;

	private static PreflightService preflight;

	@BeforeAll
	static void start() throws Exception {
		server.installFixtures(PostgresServer.DEFAULT_DATABASE);
		try (Connection connection = server.connect(PostgresServer.DEFAULT_DATABASE, "pf-setup");
				Statement statement = connection.createStatement()) {
			statement.execute("""
					DROP TABLE IF EXISTS pf_quiet, pf_wait, pf_cic, "Pf Mixed";
					CREATE TABLE pf_quiet (id int PRIMARY KEY);
					CREATE TABLE pf_wait (id int PRIMARY KEY);
					CREATE TABLE pf_cic (id int PRIMARY KEY, v int);
					CREATE TABLE "Pf Mixed" (id int)""");
		}
		lab = new TargetConnections(target(server.port()), POLL);
		preflight = new PreflightService((name) -> name.equals("lab") ? lab : null, QueryTextMode.REDACTED);
	}

	@AfterAll
	static void stop() {
		lab.close();
	}

	private static TargetsProperties.Target target(int port) {
		return new TargetsProperties.Target("lab",
				"jdbc:postgresql://" + server.host() + ":" + port + "/" + PostgresServer.DEFAULT_DATABASE, server.superuser(),
				server.password(), null);
	}

	@Test
	void aLongReaderMakesAccessExclusiveUnsafeAndIsNamed() throws Exception {
		try (LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "pfread")) {
			LockScenario.Session reader = scenario.session("reader");
			reader.execute("BEGIN; SELECT * FROM users WHERE name = 'user_1' LIMIT 1");
			Thread.sleep(1100);
			PreflightResult result = preflight.check("lab", "users", LockMode.ACCESS_EXCLUSIVE);
			assertThat(result.safe()).isFalse();
			assertThat(result.mode()).isEqualTo("AccessExclusiveLock");
			assertThat(result.relations()).singleElement().satisfies((r) -> {
				assertThat(r.relation()).isEqualTo("public.users");
				assertThat(r.requested()).isEqualTo("users");
				assertThat(r.mode()).isEqualTo("AccessExclusiveLock");
				assertThat(r.oid()).isPositive();
			});
			assertThat(result.conflicts()).singleElement().satisfies((c) -> {
				assertThat(c.pid()).isEqualTo(reader.pid());
				assertThat(c.relation()).isEqualTo("public.users");
				assertThat(c.mode()).isEqualTo("AccessShareLock");
				assertThat(c.granted()).isTrue();
				assertThat(c.state()).isEqualTo("idle in transaction");
				assertThat(c.applicationName()).isEqualTo("pfread_reader");
				assertThat(c.user()).isEqualTo(server.superuser());
				assertThat(c.transactionAgeSeconds()).isGreaterThanOrEqualTo(1.0);
				// shaped by pglockwatch.query-text (redacted here): the literal is gone
				assertThat(c.query()).endsWith("SELECT * FROM users WHERE name = ? LIMIT ?").doesNotContain("user_1");
				assertThat(c.preparedTransaction()).isNull();
			});
			assertThat(result.olderTransactions()).isEmpty();
		}
	}

	@Test
	void safeWhenNothingConflicts() throws Exception {
		try (LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "pfsafe")) {
			scenario.session("reader").execute("BEGIN; SELECT * FROM users LIMIT 1");
			// two readers share AccessShare
			PreflightResult shared = preflight.check("lab", "public.users", LockMode.ACCESS_SHARE);
			assertThat(shared.safe()).isTrue();
			assertThat(shared.conflicts()).isEmpty();
			PreflightResult quiet = preflight.check("lab", "pf_quiet", LockMode.ACCESS_EXCLUSIVE);
			assertThat(quiet.safe()).isTrue();
			assertThat(quiet.relations()).extracting(RelationCheck::relation).containsExactly("public.pf_quiet");
		}
	}

	@Test
	void addForeignKeyChecksBothTables() throws Exception {
		try (LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "pffk")) {
			LockScenario.Session writer = scenario.session("writer");
			writer.execute("BEGIN; UPDATE users SET name = name WHERE id = 1");
			PreflightResult result = preflight.check("lab", StatementLockModes.classify(
					"ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID"));
			assertThat(result.relations()).extracting(RelationCheck::relation, RelationCheck::mode)
				.containsExactlyInAnyOrder(Tuple.tuple("public.orders", "ShareRowExclusiveLock"),
						Tuple.tuple("public.users", "ShareRowExclusiveLock"));
			assertThat(result.safe()).isFalse();
			// the writer's RowExclusive on users conflicts with ShareRowExclusive; nothing is in the way on orders
			assertThat(result.conflicts()).extracting(Conflict::pid, Conflict::relation, Conflict::mode)
				.containsExactly(Tuple.tuple(writer.pid(), "public.users", "RowExclusiveLock"));
		}
	}

	@Test
	void aWaitingSessionIsAConflictToo() throws Exception {
		try (LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "pfwait")) {
			scenario.session("reader").execute("BEGIN; SELECT * FROM pf_wait");
			LockScenario.Session ddl = scenario.session("ddl");
			CompletableFuture<Void> alter = ddl.submit("ALTER TABLE pf_wait ADD COLUMN note text");
			scenario.awaitWaiting(ddl, Duration.ofSeconds(10));
			// a plain read would now queue behind the waiting ALTER TABLE, though the holder lets it in
			PreflightResult result = preflight.check("lab", "pf_wait", LockMode.ACCESS_SHARE);
			assertThat(result.safe()).isFalse();
			assertThat(result.conflicts()).singleElement().satisfies((c) -> {
				assertThat(c.pid()).isEqualTo(ddl.pid());
				assertThat(c.granted()).isFalse();
				assertThat(c.mode()).isEqualTo("AccessExclusiveLock");
				assertThat(c.state()).isEqualTo("active");
				assertThat(c.query()).isEqualTo("ALTER TABLE pf_wait ADD COLUMN note text");
			});
			assertThat(alter).isNotDone();
		}
	}

	@Test
	void reindexTableSeesReadersThroughTheIndexes() throws Exception {
		try (LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "pfreidx")) {
			LockScenario.Session reader = scenario.session("reader");
			reader.execute("BEGIN; SELECT * FROM pf_cic WHERE id = 1");
			// ShareLock on the table lets the reader be, but the planner's AccessShare on pf_cic_pkey does not
			PreflightResult result = preflight.check("lab", StatementLockModes.classify("REINDEX TABLE pf_cic"));
			assertThat(result.safe()).isFalse();
			assertThat(result.relations()).extracting(RelationCheck::relation, RelationCheck::mode)
				.containsExactly(Tuple.tuple("public.pf_cic", "ShareLock"),
						Tuple.tuple("public.pf_cic_pkey", "AccessExclusiveLock"));
			assertThat(result.conflicts()).extracting(Conflict::pid, Conflict::relation)
				.containsExactly(Tuple.tuple(reader.pid(), "public.pf_cic_pkey"));
		}
	}

	@Test
	void createIndexConcurrentlyListsAnOlderOpenTransaction() throws Exception {
		try (LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "pfcic")) {
			LockScenario.Session old = scenario.session("old");
			old.execute("BEGIN; SELECT count(*) FROM accounts");
			Thread.sleep(50);
			LockScenario.Session newer = scenario.session("newer");
			newer.execute("BEGIN; SELECT 1");
			PreflightResult result = preflight.check("lab",
					StatementLockModes.classify("CREATE INDEX CONCURRENTLY pf_cic_v ON pf_cic (v)"));
			assertThat(result.conflicts()).isEmpty();
			assertThat(result.mode()).isEqualTo("ShareUpdateExclusiveLock");
			assertThat(result.safe()).isFalse();
			assertThat(result.olderTransactions()).extracting(Conflict::pid).containsSubsequence(old.pid(), newer.pid());
			assertThat(result.olderTransactions()).allSatisfy((c) -> {
				assertThat(c.relation()).isNull();
				assertThat(c.granted()).isNull();
				assertThat(c.applicationName()).isNotEqualTo(TargetConnections.APPLICATION_NAME);
			});
			// without CONCURRENTLY nobody older is waited for
			assertThat(preflight.check("lab", StatementLockModes.classify("CREATE INDEX pf_cic_v ON pf_cic (v)")).safe())
				.isTrue();
		}
	}

	@Test
	void namesResolveLikePostgres() {
		assertThat(preflight.check("lab", "\"Pf Mixed\"", LockMode.ACCESS_EXCLUSIVE).relations())
			.extracting(RelationCheck::relation).containsExactly("public.Pf Mixed");
		assertThat(preflight.check("lab", "PF_QUIET", LockMode.SHARE).relations()).extracting(RelationCheck::relation)
			.containsExactly("public.pf_quiet");
		// pg_catalog is on every search_path
		assertThat(preflight.check("lab", "pg_class", LockMode.ACCESS_SHARE).relations())
			.extracting(RelationCheck::relation).containsExactly("pg_catalog.pg_class");
	}

	@Test
	void anUnknownRelationIsNamed() {
		assertThatThrownBy(() -> preflight.check("lab", "no_such_table", LockMode.SHARE))
			.isInstanceOf(PreflightService.UnknownRelationException.class)
			.hasMessageContaining("relation 'no_such_table' not found on target lab")
			.hasMessageContaining("search_path: public");
		assertThatThrownBy(() -> preflight.check("lab", "\"Pf mixed\"", LockMode.SHARE))
			.isInstanceOf(PreflightService.UnknownRelationException.class);
		assertThatThrownBy(() -> preflight.check("lab",
				StatementLockModes.classify("ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES app.users")))
			.hasMessageContaining("'app.users'");
	}

	@Test
	void anUnreachableTargetSaysWhy() {
		try (TargetConnections down = new TargetConnections(target(1), POLL)) {
			PreflightService service = new PreflightService((name) -> down, QueryTextMode.REDACTED);
			assertThatThrownBy(() -> service.check("lab", "users", LockMode.SHARE))
				.isInstanceOf(PreflightService.TargetUnavailableException.class)
				.hasMessageStartingWith("target lab cannot be read: ")
				.hasMessageContaining("refused");
		}
		assertThatThrownBy(() -> preflight.check("other", "users", LockMode.SHARE))
			.isInstanceOf(PreflightService.TargetUnavailableException.class);
	}

	@Test
	void queryTextNoneHidesTheQuery() throws Exception {
		PreflightService none = new PreflightService((name) -> lab, QueryTextMode.NONE);
		try (LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "pfnone")) {
			scenario.session("reader").execute("BEGIN; SELECT * FROM pf_quiet");
			assertThat(none.check("lab", "pf_quiet", LockMode.ACCESS_EXCLUSIVE).conflicts()).singleElement()
				.satisfies((c) -> assertThat(c.query()).isNull());
		}
	}

}
