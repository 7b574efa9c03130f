package io.pglockwatch.gate;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import javax.sql.DataSource;

import io.pglockwatch.testsupport.PostgresServer;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A fresh database on the shared test PostgreSQL, with the lock-lab tables ({@code users}, {@code orders}, 10,000
 * rows each), and the helpers the gate's tests share: Flyway for a scenario's migrations, a session that holds a
 * lock, catalog queries.
 */
final class GateDatabase {

	final PostgresServer server = PostgresServer.shared();
	final String name;
	final PGSimpleDataSource dataSource = new PGSimpleDataSource();

	GateDatabase(String name) {
		this.name = name;
		server.createDatabase(name);
		server.installFixtures(name);
		dataSource.setUrl(server.jdbcUrl(name));
		dataSource.setUser(server.superuser());
		dataSource.setPassword(server.password());
		dataSource.setApplicationName("gate-test-flyway");
	}

	/** Flyway for {@code classpath:gate-migrations/<scenario>}, its history in a table of its own. */
	FluentConfiguration flyway(String scenario) {
		return Flyway.configure().dataSource(dataSource).locations("classpath:gate-migrations/" + scenario)
				.table("history_" + scenario.replace('-', '_')).baselineOnMigrate(true).baselineVersion("0");
	}

	Connection connect(String applicationName) throws SQLException {
		return server.connect(name, applicationName);
	}

	/**
	 * A session that runs {@code sql} in a transaction and keeps it open until {@link Holder#close()} (or for
	 * {@code holdMillis}, when positive).
	 */
	Holder hold(String applicationName, String sql, long holdMillis) throws Exception {
		return new Holder(connect(applicationName), sql, holdMillis);
	}

	boolean columnExists(String table, String column) throws SQLException {
		return queryLong("SELECT count(*) FROM information_schema.columns WHERE table_name = '" + table
				+ "' AND column_name = '" + column + "'") > 0;
	}

	long queryLong(String sql) throws SQLException {
		try (Connection connection = connect("gate-test-check"); Statement statement = connection.createStatement();
				ResultSet rows = statement.executeQuery(sql)) {
			rows.next();
			return rows.getLong(1);
		}
	}

	List<String> queryStrings(String sql) throws SQLException {
		List<String> found = new ArrayList<>();
		try (Connection connection = connect("gate-test-check"); Statement statement = connection.createStatement();
				ResultSet rows = statement.executeQuery(sql)) {
			while (rows.next()) {
				found.add(rows.getString(1));
			}
		}
		return found;
	}

	DataSource dataSource() {
		return dataSource;
	}

	static final class Holder implements AutoCloseable {

		final Connection connection;
		final int pid;
		private final Thread ender;
		private final CountDownLatch end = new CountDownLatch(1);
		private final AtomicReference<Throwable> failure = new AtomicReference<>();

		Holder(Connection connection, String sql, long holdMillis) throws SQLException {
			this.connection = connection;
			try (Statement statement = connection.createStatement();
					ResultSet rows = statement.executeQuery("SELECT pg_backend_pid()")) {
				rows.next();
				this.pid = rows.getInt(1);
			}
			connection.setAutoCommit(false);
			try (Statement statement = connection.createStatement()) {
				statement.execute(sql);
			}
			ender = new Thread(() -> {
				try {
					if (holdMillis > 0) {
						end.await(holdMillis, java.util.concurrent.TimeUnit.MILLISECONDS);
					}
					else {
						end.await();
					}
					release();
				}
				catch (Throwable t) {
					failure.set(t);
				}
			}, "gate-test-holder");
			ender.setDaemon(true);
			ender.start();
		}

		/** Ends the transaction this long from now. */
		void releaseAfter(long millis) {
			Thread timer = new Thread(() -> {
				try {
					Thread.sleep(millis);
				}
				catch (InterruptedException e) {
					return;
				}
				end.countDown();
			}, "gate-test-holder-timer");
			timer.setDaemon(true);
			timer.start();
		}

		private synchronized void release() throws SQLException {
			if (!connection.isClosed()) {
				connection.commit();
				connection.close();
			}
		}

		@Override
		public void close() throws Exception {
			end.countDown();
			ender.join(5000);
			release();
		}

	}

}
