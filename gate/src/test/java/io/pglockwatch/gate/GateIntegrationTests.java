package io.pglockwatch.gate;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.callback.Callback;
import org.flywaydb.core.api.callback.Context;
import org.flywaydb.core.api.callback.Event;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The gate through Flyway on a real PostgreSQL: giving up, a non-transactional retry, an error it must not retry. */
class GateIntegrationTests {

	private static GateDatabase db;

	@BeforeAll
	static void database() {
		db = new GateDatabase("gate_integration");
	}

	/** Quick retries for tests: short backoff, 3 attempts, 1 s lock_timeout. */
	private static GateSettings.Builder quick() {
		return GateSettings.builder().maxAttempts(3).lockTimeout(Duration.ofSeconds(1))
				.backoffInitial(Duration.ofMillis(100)).backoffMax(Duration.ofMillis(200));
	}

	@Test
	void aHolderThatNeverEndsMakesTheGateGiveUpNamingIt() throws Exception {
		Gate gate = new Gate(quick().preCheck(false).build());
		AttemptCounter counter = new AttemptCounter();
		Flyway flyway = observed(gate, db.flyway("never"), counter).load();
		try (GateDatabase.Holder holder = db.hold("gate-test-forever", "SELECT count(*) FROM users", 0)) {
			long start = System.nanoTime();
			GateGaveUpException e = catchThrowableOfType(GateGaveUpException.class, () -> gate.migrate(flyway));
			long millis = (System.nanoTime() - start) / 1_000_000;
			System.out.println("gave up after " + millis + " ms: " + e.getMessage());
			assertThat(e).isInstanceOf(FlywayException.class);
			assertThat(e.getMessage()).contains("V1").contains("after 3/3 attempts")
					.contains("pid " + holder.pid).contains("gate-test-forever").contains("idle in transaction")
					.contains("SELECT count(*) FROM users").contains("rolled back");
			assertThat(e.blockers()).extracting(Blocker::pid).contains(holder.pid);
			assertThat(counter.before).hasSize(3);
			assertThat(counter.lockTimeouts).containsOnly("1s");
			assertThat(counter.applicationNames).containsExactly("pglockwatch-gate V1 attempt 1/3",
					"pglockwatch-gate V1 attempt 2/3", "pglockwatch-gate V1 attempt 3/3");
		}
		assertThat(db.columnExists("users", "nickname")).isFalse();
		assertThat(db.queryLong("SELECT count(*) FROM history_never WHERE version = '1'")).isZero();
	}

	@Test
	void withThePreCheckItGivesUpWithoutStartingWhileAHolderIsThere() throws Exception {
		Gate gate = new Gate(quick().build());
		Flyway flyway = gate.configure(db.flyway("precheck")).load();
		try (GateDatabase.Holder holder = db.hold("gate-test-precheck-holder", "SELECT count(*) FROM users", 0)) {
			Thread.sleep(300); // older than max-victim-wait: a long one
			GateGaveUpException e = catchThrowableOfType(GateGaveUpException.class, () -> gate.migrate(flyway));
			System.out.println("pre-check gave up: " + e.getMessage());
			assertThat(e.getMessage()).contains("not started").contains("pid " + holder.pid)
					.contains("gate-test-precheck-holder").contains("AccessShareLock").contains("did not start");
		}
		assertThat(db.columnExists("users", "email")).isFalse();
		// and once the holder is gone it runs
		gate.migrate(flyway);
		assertThat(db.columnExists("users", "email")).isTrue();
	}

	@Test
	void aConcurrentIndexBuildThatTimedOutIsCleanedUpAndRetried() throws Exception {
		Gate gate = new Gate(quick().maxAttempts(10).build());
		AttemptCounter counter = new AttemptCounter();
		Flyway flyway = observed(gate, db.flyway("index"), counter).load();
		// a writer idle in its transaction: CREATE INDEX CONCURRENTLY creates the index (INVALID), then waits for it
		try (GateDatabase.Holder holder = db.hold("gate-test-writer", "UPDATE orders SET status = status WHERE id = 1",
				0)) {
			// the writer ends 1.5 s after the first attempt failed on it, whatever the machine's speed
			counter.onError = () -> holder.releaseAfter(1_500);
			gate.migrate(flyway);
		}
		System.out.println("index attempts: " + counter.before.size() + ", autocommit (outside a transaction): " + counter.autoCommit);
		assertThat(counter.before.size()).isGreaterThan(1);
		assertThat(counter.invalidIndexesAfterError).as("the failed attempts left an INVALID index").isNotEmpty()
				.allMatch(count -> count == 1);
		assertThat(counter.autoCommit).as("Flyway ran it outside a transaction").allMatch(autoCommit -> autoCommit);
		assertThat(db.queryStrings("""
				SELECT c.relname || ':' || i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
				WHERE i.indrelid = 'orders'::regclass AND c.relname LIKE 'orders_status_idx%'"""))
				.containsExactly("orders_status_idx:true");
		assertThat(db.queryLong("SELECT count(*) FROM pg_index WHERE NOT indisvalid")).isZero();
		assertThat(db.queryStrings("SELECT version || ':' || success FROM history_index WHERE version = '1'"))
				.containsExactly("1:true");
	}

	@Test
	void anErrorThatIsNotALockFailureIsNotRetried() throws Exception {
		Gate gate = new Gate(quick().build());
		AttemptCounter counter = new AttemptCounter();
		Flyway flyway = observed(gate, db.flyway("error"), counter).load();
		assertThatThrownBy(() -> gate.migrate(flyway)).isInstanceOf(FlywayException.class)
				.isNotInstanceOf(GateGaveUpException.class).hasMessageContaining("division by zero");
		assertThat(counter.before).hasSize(1);
		assertThat(db.queryLong("SELECT count(*) FROM pg_class WHERE relname = 'gate_error_probe'")).isZero();
	}

	/** The gate's callback, then the counter, which so sees the session as the gate left it. */
	static FluentConfiguration observed(Gate gate, FluentConfiguration configuration, AttemptCounter counter) {
		gate.configure(configuration);
		List<Callback> callbacks = new ArrayList<>(List.of(configuration.getCallbacks()));
		callbacks.add(counter);
		return configuration.callbacks(callbacks.toArray(new Callback[0]));
	}

	/** Counts the attempts Flyway made, and what the migration's session looked like in each. */
	static final class AttemptCounter implements Callback {

		final List<String> before = Collections.synchronizedList(new ArrayList<>());
		final List<String> applicationNames = Collections.synchronizedList(new ArrayList<>());
		final List<Boolean> autoCommit = Collections.synchronizedList(new ArrayList<>());
		final List<String> lockTimeouts = Collections.synchronizedList(new ArrayList<>());
		/** After each failed attempt outside a transaction: the INVALID indexes it left. */
		final List<Long> invalidIndexesAfterError = Collections.synchronizedList(new ArrayList<>());
		/** Run at the first failed attempt. */
		volatile Runnable onError;

		@Override
		public boolean supports(Event event, Context context) {
			return event == Event.BEFORE_EACH_MIGRATE || event == Event.AFTER_EACH_MIGRATE_ERROR
					|| event == Event.AFTER_EACH_MIGRATE;
		}

		@Override
		public boolean canHandleInTransaction(Event event, Context context) {
			return true;
		}

		@Override
		public void handle(Event event, Context context) {
			if (event == Event.BEFORE_EACH_MIGRATE) {
				before.add(String.valueOf(context.getMigrationInfo().getVersion()));
				try (java.sql.Statement statement = context.getConnection().createStatement();
						java.sql.ResultSet rows = statement.executeQuery(
								"SELECT current_setting('application_name'), current_setting('lock_timeout')")) {
					autoCommit.add(context.getConnection().getAutoCommit());
					rows.next();
					applicationNames.add(rows.getString(1));
					lockTimeouts.add(rows.getString(2));
				}
				catch (java.sql.SQLException e) {
					throw new IllegalStateException(e);
				}
			}
			else if (event == Event.AFTER_EACH_MIGRATE_ERROR) {
				Runnable first = onError;
				onError = null;
				if (first != null) {
					first.run();
				}
				try {
					if (context.getConnection().getAutoCommit()) {
						try (java.sql.Statement statement = context.getConnection().createStatement();
								java.sql.ResultSet rows = statement.executeQuery(
										"SELECT count(*) FROM pg_index WHERE NOT indisvalid")) {
							rows.next();
							invalidIndexesAfterError.add(rows.getLong(1));
						}
					}
				}
				catch (java.sql.SQLException e) {
					throw new IllegalStateException(e);
				}
			}
		}

		@Override
		public String getCallbackName() {
			return "zz-gate-test-observer"; // Flyway runs callbacks in name order: after the gate
		}

	}

}
