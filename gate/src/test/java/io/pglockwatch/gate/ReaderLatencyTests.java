package io.pglockwatch.gate;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The gate's promise, measured from the readers' side: an {@code ALTER TABLE} behind a session idle in its
 * transaction for 8 s, while 20 sessions read the table, makes no reader wait longer than {@code max-victim-wait}
 * (+ the watcher's poll and the cancel), with the gate; without it, the readers wait the whole 8 s.
 */
class ReaderLatencyTests {

	private static final long HOLD_MILLIS = 8_000;
	private static final int READERS = 20;

	@Test
	void readersWaitAtMostMaxVictimWaitWithTheGateAndTheWholeHoldWithout() throws Exception {
		GateDatabase gated = new GateDatabase("gate_readers");
		// the defaults, but without the pre-check: the gate attempts while the holder is there, so this measures the
		// watcher's self-cancel, the part that protects the readers when a holder comes after any check
		Gate gate = new Gate(GateSettings.builder().preCheck(false).build());
		Flyway flyway = gate.configure(gated.flyway("alter")).load();
		Latencies withGate = measure(gated, () -> gate.migrate(flyway));
		assertThat(gated.columnExists("users", "last_login")).isTrue();

		GateDatabase plain = new GateDatabase("gate_readers_plain");
		Flyway plainFlyway = plain.flyway("alter-plain").load();
		Latencies withoutGate = measure(plain, plainFlyway::migrate);
		assertThat(plain.columnExists("users", "last_login")).isTrue();

		System.out.printf("reader latency with the gate: max %d ms, p99 %d ms, %d reads, migration done after %d ms"
				+ " (before the migration: max %d ms, p99 %d ms)%n", withGate.max(), withGate.percentile(99),
				withGate.count(), withGate.migrationMillis, withGate.baseline.max(), withGate.baseline.percentile(99));
		System.out.printf("reader latency without the gate: max %d ms, p99 %d ms, %d reads, migration done after %d ms"
				+ " (before the migration: max %d ms, p99 %d ms)%n", withoutGate.max(), withoutGate.percentile(99),
				withoutGate.count(), withoutGate.migrationMillis, withoutGate.baseline.max(),
				withoutGate.baseline.percentile(99));
		System.out.println("reads over 100 ms with the gate (ms): " + withGate.over(100));

		assertThat(withGate.migrationMillis).as("the migration ran after the holder ended").isGreaterThanOrEqualTo(HOLD_MILLIS);
		assertThat(withoutGate.max()).as("longest read without the gate").isGreaterThanOrEqualTo(7_000);
		// max-victim-wait 200 ms + 100 ms; on a machine so loaded that plain reads, with nothing queued, already take
		// over 100 ms, the bound grows by that noise (printed above), which is not the gate's to remove
		long noise = Math.max(0, withGate.baseline.max() - 100);
		if (noise > 0) {
			System.out.println("WARNING: the machine is loaded (reads took up to " + withGate.baseline.max()
					+ " ms before anything queued); the bound is 300 + " + noise + " ms");
		}
		assertThat(withGate.max()).as("longest read with the gate (max-victim-wait 200 ms + 100 ms)")
				.isLessThanOrEqualTo(300 + noise);
	}

	private Latencies measure(GateDatabase database, Runnable migration) throws Exception {
		Latencies latencies = new Latencies();
		Latencies baseline = new Latencies();
		latencies.baseline = baseline;
		AtomicBoolean stop = new AtomicBoolean();
		AtomicBoolean migrating = new AtomicBoolean();
		List<Thread> readers = new ArrayList<>();
		CountDownLatch ready = new CountDownLatch(READERS);
		List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
		try (GateDatabase.Holder holder = database.hold("gate-test-holder", "SELECT count(*) FROM users", 0)) {
			for (int i = 0; i < READERS; i++) {
				Thread reader = new Thread(() -> {
					try (Connection connection = database.connect("gate-test-reader");
							Statement statement = connection.createStatement()) {
						ready.countDown();
						while (!stop.get()) {
							long start = System.nanoTime();
							try (ResultSet rows = statement.executeQuery("SELECT count(*) FROM users")) {
								rows.next();
							}
							long millis = (System.nanoTime() - start) / 1_000_000;
							if (migrating.get()) {
								latencies.add(millis);
							}
							else {
								baseline.add(millis);
							}
							Thread.sleep(10);
						}
					}
					catch (Throwable t) {
						failures.add(t);
						ready.countDown();
					}
				}, "gate-test-reader-" + i);
				reader.start();
				readers.add(reader);
			}
			ready.await();
			// the readers' latency on this machine right now, before anything queues: the noise floor
			Thread.sleep(1000);
			migrating.set(true);
			// the holder stays 8 s from the moment the ALTER TABLE first queues for its lock
			Thread starter = new Thread(() -> releaseWhenTheAlterQueues(database, holder), "gate-test-holder-start");
			starter.setDaemon(true);
			starter.start();
			long start = System.nanoTime();
			migration.run();
			latencies.migrationMillis = (System.nanoTime() - start) / 1_000_000;
			// keep reading a little after the migration, as an API would
			Thread.sleep(300);
		}
		finally {
			stop.set(true);
			for (Thread reader : readers) {
				reader.join(15_000);
			}
		}
		assertThat(failures).isEmpty();
		return latencies;
	}

	private static void releaseWhenTheAlterQueues(GateDatabase database, GateDatabase.Holder holder) {
		long deadline = System.nanoTime() + 20_000_000_000L;
		try (Connection connection = database.connect("gate-test-observer");
				Statement statement = connection.createStatement()) {
			while (System.nanoTime() < deadline) {
				try (ResultSet rows = statement.executeQuery("""
						SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
						WHERE NOT l.granted AND a.query LIKE 'ALTER TABLE users%'""")) {
					rows.next();
					if (rows.getLong(1) > 0) {
						break;
					}
				}
				Thread.sleep(5);
			}
		}
		catch (Exception e) {
			// released below anyway
		}
		holder.releaseAfter(HOLD_MILLIS);
	}

	private static final class Latencies {

		private final List<Long> millis = Collections.synchronizedList(new ArrayList<>());
		long migrationMillis;
		Latencies baseline;

		void add(long value) {
			millis.add(value);
		}

		int count() {
			return millis.size();
		}

		long max() {
			synchronized (millis) {
				return millis.stream().mapToLong(Long::longValue).max().orElse(0);
			}
		}

		long percentile(int p) {
			synchronized (millis) {
				List<Long> sorted = new ArrayList<>(millis);
				Collections.sort(sorted);
				return sorted.isEmpty() ? 0 : sorted.get(Math.min(sorted.size() - 1, sorted.size() * p / 100));
			}
		}

		List<Long> over(long threshold) {
			synchronized (millis) {
				return millis.stream().filter(m -> m > threshold).sorted().toList();
			}
		}

	}

}
