package io.pglockwatch.testsupport;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Proves that the fixture gives real servers of each major and stages real lock queues on them. */
class PostgresFixtureTests {

	private static final Duration WAIT = Duration.ofSeconds(10);

	@ParameterizedTest(name = "PostgreSQL {0}")
	@ValueSource(ints = { 18, 14 })
	void sharedServerRunsTheRequestedMajorWithTheLabSettings(int major) throws SQLException {
		PostgresServer server = PostgresServer.shared(major);

		assertThat(server.majorVersion()).isEqualTo(major);
		assertThat(PostgresServer.shared(major)).isSameAs(server);
		assertThat(server.isRunning()).isTrue();
		try (Connection connection = server.connect(PostgresServer.DEFAULT_DATABASE, "fixture_version")) {
			assertThat(Integer.parseInt(single(connection, "SHOW server_version_num")) / 10000).isEqualTo(major);
			assertThat(single(connection, "SHOW max_connections")).isEqualTo("1100");
			assertThat(single(connection, "SHOW max_prepared_transactions")).isEqualTo("20");
			assertThat(single(connection, "SHOW deadlock_timeout")).isEqualTo("1s");
			assertThat(single(connection, "SELECT count(*) FROM users")).isEqualTo("10000");
		}
	}

	@ParameterizedTest(name = "PostgreSQL {0}")
	@ValueSource(ints = { 18, 14 })
	void alterTableQueuesReadersBehindTheWaitingDdl(int major) throws Exception {
		PostgresServer server = PostgresServer.shared(major);
		List<CompletableFuture<Void>> readerResults = new ArrayList<>();
		CompletableFuture<Void> alterResult;
		String prefix = "fixture_alter" + major;
		try (LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, prefix)) {
			LockScenario.Session holder = scenario.session("holder");
			holder.execute("BEGIN; SELECT * FROM users LIMIT 1");
			assertThat(holder.state()).isEqualTo("idle in transaction");

			LockScenario.Session alter = scenario.session("alter");
			alterResult = alter.submit("ALTER TABLE users ADD COLUMN email_verified boolean NOT NULL DEFAULT false");
			// readers submitted before the DDL queues would simply get their lock
			scenario.awaitWaiting(alter, WAIT);
			List<LockScenario.Session> readers = new ArrayList<>();
			for (int i = 1; i <= 5; i++) {
				LockScenario.Session reader = scenario.session("reader" + i);
				readers.add(reader);
				readerResults.add(reader.submit("SELECT count(*) FROM users"));
			}
			scenario.awaitLockWaiters(6, WAIT);

			Map<Integer, Set<Integer>> blocking = scenario.blockingPids();
			assertThat(blocking).containsEntry(alter.pid(), Set.of(holder.pid()));
			for (LockScenario.Session reader : readers) {
				assertThat(blocking).containsEntry(reader.pid(), Set.of(alter.pid()));
			}
			assertThat(holder.state()).isEqualTo("idle in transaction");
		}

		assertThat(alterResult).isCompletedExceptionally();
		assertThat(readerResults).allMatch(CompletableFuture::isDone);
		try (Connection connection = server.connect(PostgresServer.DEFAULT_DATABASE, "fixture_check")) {
			assertThat(single(connection, "SELECT count(*) FROM pg_stat_activity WHERE starts_with(application_name, '"
					+ prefix + "_')")).isEqualTo("0");
			assertThat(single(connection, "SELECT count(*) FROM information_schema.columns "
					+ "WHERE table_name = 'users' AND column_name = 'email_verified'")).isEqualTo("0");
		}
	}

	@Test
	void privateServerRestartsOnTheSamePort() throws SQLException {
		try (PostgresServer server = PostgresServer.startNew(18)) {
			int port = server.port();
			String url = server.jdbcUrl(PostgresServer.DEFAULT_DATABASE);

			server.stop();
			assertThat(server.isRunning()).isFalse();
			assertThatThrownBy(() -> server.connect(PostgresServer.DEFAULT_DATABASE, "fixture_down").close())
					.isInstanceOf(SQLException.class);

			server.start();
			assertThat(server.isRunning()).isTrue();
			assertThat(server.port()).isEqualTo(port);
			assertThat(server.jdbcUrl(PostgresServer.DEFAULT_DATABASE)).isEqualTo(url);
			try (Connection connection = server.connect(PostgresServer.DEFAULT_DATABASE, "fixture_restarted")) {
				assertThat(single(connection, "SELECT count(*) FROM users")).isEqualTo("10000");
			}
		}
	}

	@Test
	void sharedServerCannotBeStoppedByATest() {
		PostgresServer server = PostgresServer.shared(18);

		assertThatThrownBy(server::stop).isInstanceOf(UnsupportedOperationException.class);
		server.close();
		assertThat(server.isRunning()).isTrue();
	}

	@Test
	void secondDatabaseGetsTheFixtures() throws SQLException {
		PostgresServer server = PostgresServer.shared(18);

		server.createDatabase("lab2");
		server.createDatabase("lab2");
		server.installFixtures("lab2");
		server.installFixtures("lab2");

		try (Connection connection = server.connect("lab2", "fixture_lab2")) {
			assertThat(single(connection, "SELECT count(*) FROM users")).isEqualTo("10000");
			assertThat(single(connection, "SELECT count(*) FROM orders")).isEqualTo("10000");
			assertThat(single(connection, "SELECT string_agg(id::text, ',' ORDER BY id) FROM accounts")).isEqualTo("1,2,3");
			assertThat(single(connection, "SELECT count(*) FROM idle_t")).isEqualTo("1");
			assertThat(single(connection, "SELECT count(*) FROM pg_stats WHERE tablename = 'users'")).isNotEqualTo("0");
			// the serial must continue after the fixture rows
			assertThat(single(connection, "INSERT INTO orders (user_id, amount, status) VALUES (1, 1, 'new') RETURNING id"))
					.isEqualTo("10001");
		}
	}

	@Test
	void createdRoleCanLogInWithItsGrants() throws SQLException {
		PostgresServer server = PostgresServer.shared(18);

		server.createRole("fixture_monitor", "s3cret'pw", "pg_monitor", "pg_signal_backend");
		server.createRole("fixture_monitor", "s3cret'pw", "pg_monitor", "pg_signal_backend");

		try (Connection connection = server.connect(PostgresServer.DEFAULT_DATABASE, "fixture_monitor", "s3cret'pw",
				"fixture_role")) {
			assertThat(single(connection, "SELECT current_user")).isEqualTo("fixture_monitor");
			assertThat(single(connection, "SELECT pg_has_role('pg_monitor', 'MEMBER')")).isEqualTo("t");
			assertThat(single(connection, "SELECT pg_has_role('pg_signal_backend', 'MEMBER')")).isEqualTo("t");
		}
	}

	private static String single(Connection connection, String sql) throws SQLException {
		try (Statement statement = connection.createStatement(); ResultSet rows = statement.executeQuery(sql)) {
			assertThat(rows.next()).as("a row from %s", sql).isTrue();
			return rows.getString(1);
		}
	}
}
