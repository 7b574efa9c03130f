package io.pglockwatch.demo;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

import io.pglockwatch.testsupport.PostgresServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reproduces the outage pg-lockwatch exists for, on a loop: a report opens a transaction on {@code users}
 * and keeps it (alternately idle in transaction, or running a long query); a migration runs
 * {@code ALTER TABLE users ADD COLUMN} without a lock_timeout and waits for ACCESS EXCLUSIVE; the API's
 * plain SELECTs on {@code users} queue behind the migration. After {@link #INCIDENT} the report ends, the
 * migration runs, the queue drains; the column is dropped again and the loop pauses.
 */
public final class DemoWorkload {

	static final Duration FIRST_INCIDENT_AFTER = Duration.ofSeconds(10);

	static final Duration INCIDENT = Duration.ofSeconds(50);

	static final Duration PAUSE = Duration.ofSeconds(70);

	static final int API_CLIENTS = 12;

	private static final Logger logger = LoggerFactory.getLogger(DemoWorkload.class);

	private final PostgresServer server;

	private final String database;

	private volatile boolean running = true;

	public DemoWorkload(PostgresServer server, String database) {
		this.server = server;
		this.database = database;
	}

	public void start() {
		this.server.installFixtures(this.database);
		for (int i = 1; i <= API_CLIENTS; i++) {
			daemon("demo-api-" + i, this::apiClient);
		}
		daemon("demo-incidents", this::incidents);
	}

	public void stop() {
		this.running = false;
	}

	private void apiClient() {
		String name = Thread.currentThread().getName();
		while (this.running) {
			try (Connection connection = this.server.connect(this.database, name);
					PreparedStatement lookup = connection.prepareStatement("SELECT name FROM users WHERE id = ?")) {
				while (this.running) {
					lookup.setInt(1, ThreadLocalRandom.current().nextInt(1, 10_000));
					lookup.executeQuery().close();
					sleep(Duration.ofMillis(300 + ThreadLocalRandom.current().nextInt(400)));
				}
			}
			catch (SQLException ex) {
				sleep(Duration.ofSeconds(1));
			}
		}
	}

	private void incidents() {
		sleep(FIRST_INCIDENT_AFTER);
		int round = 0;
		while (this.running) {
			round++;
			boolean idle = round % 2 == 1;
			try (Connection report = this.server.connect(this.database, "reporting");
					Connection migration = this.server.connect(this.database, "migrate")) {
				try (Statement s = migration.createStatement()) {
					s.execute("ALTER TABLE users DROP COLUMN IF EXISTS demo_flag");
				}
				report.setAutoCommit(false);
				Thread reader = null;
				if (idle) {
					try (Statement s = report.createStatement()) {
						s.executeQuery("SELECT count(*) FROM users").close(); // then idle in transaction
					}
				}
				else {
					reader = daemon("demo-report", () -> longQuery(report));
				}
				sleep(Duration.ofSeconds(3));
				logger.info("Demo incident {}: migration waits for ACCESS EXCLUSIVE on users behind a {} report", round,
						idle ? "idle-in-transaction" : "long-running");
				Thread ddl = daemon("demo-migrate", () -> execute(migration,
						"ALTER TABLE users ADD COLUMN demo_flag boolean NOT NULL DEFAULT false"));
				sleep(INCIDENT);
				if (idle) {
					report.commit();
				}
				else {
					try (Statement s = this.server.connect(this.database, "demo-ops").createStatement()) {
						s.execute("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'reporting'");
					}
					reader.join(10_000);
					report.rollback();
				}
				ddl.join(10_000);
				logger.info("Demo incident {} over: the report ended, the migration ran, the queue drained", round);
			}
			catch (SQLException ex) {
				logger.warn("Demo round {} failed: {}", round, ex.getMessage());
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return;
			}
			sleep(PAUSE);
		}
	}

	private void longQuery(Connection report) {
		execute(report, "SELECT pg_sleep(600) FROM (SELECT 1 FROM users LIMIT 1) u");
	}

	private static void execute(Connection connection, String sql) {
		try (Statement s = connection.createStatement()) {
			s.execute(sql);
		}
		catch (SQLException ex) {
			// cancelled by the demo itself
		}
	}

	private static Thread daemon(String name, Runnable body) {
		Thread thread = new Thread(body, name);
		thread.setDaemon(true);
		thread.start();
		return thread;
	}

	private static void sleep(Duration duration) {
		try {
			Thread.sleep(duration.toMillis());
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}
