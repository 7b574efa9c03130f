package io.pglockwatch.gate.bench;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import io.pglockwatch.testsupport.PostgresServer;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.configuration.FluentConfiguration;

/**
 * What readers of a table see while a migration of it is blocked: an idle transaction holds a lock on {@code users}
 * for {@value #HOLD_SECONDS} s while an {@code ALTER TABLE users ADD COLUMN} migration runs, and readers run
 * {@code SELECT count(*) FROM users} {@value #READS_PER_SECOND} times a second. Each read's latency is measured from
 * the moment it was due (so a read that waits for a free connection counts that wait too). Cases, each on a fresh
 * database of one embedded PostgreSQL, in one run:
 * <ul>
 * <li>{@code plain}: Flyway as is, no lock_timeout: the ALTER waits for the holder, and every reader behind it;</li>
 * <li>{@code lock_timeout}: the usual remedy, {@code SET lock_timeout = '2s'} and a retry of the migration after 1 s
 * on lock_not_available, up to 20 attempts;</li>
 * <li>{@code gate}: the gate's defaults (lock-timeout 2s, max-victim-wait 200ms, pre-check on: it does not try the
 * ALTER while a session holds a conflicting lock);</li>
 * <li>{@code gate-no-precheck}: the gate trying the ALTER while the holder is there, cancelling it itself once a
 * reader has queued behind it for max-victim-wait.</li>
 * </ul>
 * Prints a table: reads, p50, p99, max latency, reads slower than 250 ms, how long the migration took, attempts.
 * Run with bench/gate-readers.sh.
 */
public final class ReaderLatencyBenchmark {

	static final int HOLD_SECONDS = 10;

	static final int READS_PER_SECOND = 50;

	private static final int READER_CONNECTIONS = 100;

	public static void main(String[] args) throws Exception {
		List<String> cases = (args.length > 0) ? List.of(args)
				: List.of("plain", "lock_timeout", "gate", "gate-no-precheck");
		PostgresServer server = PostgresServer.shared();
		System.out.printf(Locale.ROOT, "%nreaders of users during a migration blocked %d s by an idle transaction, %d reads/s%n",
				HOLD_SECONDS, READS_PER_SECOND);
		System.out.printf(Locale.ROOT, "%-17s %7s %9s %9s %9s %11s %13s %9s%n", "case", "reads", "p50 ms", "p99 ms",
				"max ms", ">250 ms", "migration s", "attempts");
		int n = 0;
		for (String name : cases) {
			Migration migration = migration(name);
			String database = "bench_readers_" + (n++) + "_" + System.nanoTime() % 100000;
			server.createDatabase(database);
			Result result = run(server, database, migration);
			System.out.printf(Locale.ROOT, "%-17s %7d %9.1f %9.1f %9.1f %11d %13.1f %9d%n", name, result.reads(),
					result.percentile(50), result.percentile(99), result.percentile(100), result.slowerThan(250),
					result.migrationSeconds(), result.attempts());
		}
		PostgresServer.closeShared();
		System.exit(0);
	}

	/** Migrates V2 on a database where V1 is applied, with Flyway configured so; returns the attempts it made. */
	interface Migration {

		int migrate(FluentConfiguration configuration) throws Exception;

	}

	static Migration migration(String name) {
		return switch (name) {
			case "plain" -> (configuration) -> {
				configuration.load().migrate();
				return 1;
			};
			case "lock_timeout" -> ReaderLatencyBenchmark::lockTimeoutWithRetries;
			case "gate" -> GateCase.migration(true);
			case "gate-no-precheck" -> GateCase.migration(false);
			default -> throw new IllegalArgumentException(
					"unknown case '" + name + "': plain, lock_timeout, gate or gate-no-precheck");
		};
	}

	/** The usual remedy: lock_timeout 2s on the migration's session, and a retry 1 s after each lock timeout. */
	private static int lockTimeoutWithRetries(FluentConfiguration configuration) throws InterruptedException {
		Flyway flyway = configuration.initSql("SET lock_timeout = '2s'").load();
		for (int attempt = 1;; attempt++) {
			try {
				flyway.migrate();
				return attempt;
			}
			catch (FlywayException ex) {
				if (attempt >= 20 || !lockNotAvailable(ex)) {
					throw ex;
				}
				Thread.sleep(1000);
			}
		}
	}

	private static boolean lockNotAvailable(Throwable ex) {
		for (Throwable t = ex; t != null; t = t.getCause()) {
			if (t instanceof SQLException sql && "55P03".equals(sql.getSQLState())) {
				return true;
			}
			if (t.getMessage() != null && t.getMessage().contains("55P03")) {
				return true;
			}
		}
		return false;
	}

	static Result run(PostgresServer server, String database, Migration migration) throws Exception {
		String url = server.jdbcUrl(database);
		Flyway.configure().dataSource(url, server.superuser(), server.password())
			.locations("classpath:bench-migrations/V1")
			.load()
			.migrate();
		BlockingQueue<Connection> pool = new ArrayBlockingQueue<>(READER_CONNECTIONS);
		for (int i = 0; i < READER_CONNECTIONS; i++) {
			pool.add(server.connect(database, "bench-reader"));
		}
		ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
		ScheduledExecutorService ticks = Executors.newSingleThreadScheduledExecutor();
		ExecutorService readers = Executors.newCachedThreadPool();
		long start = System.nanoTime();
		long period = 1_000_000_000L / READS_PER_SECOND;
		ticks.scheduleAtFixedRate(() -> {
			long due = System.nanoTime();
			readers.execute(() -> read(pool, due, latencies::add));
		}, 0, period, TimeUnit.NANOSECONDS);
		Thread.sleep(1000); // readers reach their rate first
		Connection holder = server.connect(database, "bench-holder");
		try (Statement statement = holder.createStatement()) {
			statement.execute("BEGIN");
			statement.execute("SELECT * FROM users LIMIT 1");
		}
		Thread releaser = new Thread(() -> {
			try {
				Thread.sleep(HOLD_SECONDS * 1000L);
				try (Statement statement = holder.createStatement()) {
					statement.execute("COMMIT");
				}
			}
			catch (Exception ex) {
				throw new IllegalStateException(ex);
			}
		});
		releaser.start();
		FluentConfiguration configuration = Flyway.configure()
			.dataSource(url, server.superuser(), server.password())
			.locations("classpath:bench-migrations/V1", "classpath:bench-migrations/V2");
		long migrationStart = System.nanoTime();
		int attempts = migration.migrate(configuration);
		double migrationSeconds = (System.nanoTime() - migrationStart) / 1e9;
		releaser.join();
		Thread.sleep(1000); // and a second after
		ticks.shutdown();
		ticks.awaitTermination(5, TimeUnit.SECONDS);
		readers.shutdown();
		readers.awaitTermination(30, TimeUnit.SECONDS);
		holder.close();
		for (Connection connection : pool) {
			connection.close();
		}
		List<Long> sorted = new ArrayList<>(latencies);
		Collections.sort(sorted);
		return new Result(sorted, migrationSeconds, attempts, (System.nanoTime() - start) / 1e9);
	}

	private static void read(BlockingQueue<Connection> pool, long due, Consumer<Long> latency) {
		Connection connection = null;
		try {
			connection = pool.take();
			try (Statement statement = connection.createStatement()) {
				statement.execute("SELECT count(*) FROM users");
			}
			latency.accept(System.nanoTime() - due);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		catch (SQLException ex) {
			latency.accept(System.nanoTime() - due);
		}
		finally {
			if (connection != null) {
				pool.add(connection);
			}
		}
	}

	/** Read latencies in nanoseconds, sorted. */
	record Result(List<Long> latencies, double migrationSeconds, int attempts, double seconds) {

		int reads() {
			return this.latencies.size();
		}

		double percentile(int p) {
			if (this.latencies.isEmpty()) {
				return Double.NaN;
			}
			int index = (int) Math.ceil(p / 100.0 * this.latencies.size()) - 1;
			return this.latencies.get(Math.max(0, Math.min(index, this.latencies.size() - 1))) / 1e6;
		}

		long slowerThan(long millis) {
			return this.latencies.stream().filter((l) -> l > Duration.ofMillis(millis).toNanos()).count();
		}

	}

}
