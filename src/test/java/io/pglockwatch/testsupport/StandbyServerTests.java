package io.pglockwatch.testsupport;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestInstance.Lifecycle;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

/**
 * A real primary and a real streaming hot standby of it ({@link StandbyServer}), on PostgreSQL 18 and 14, and the
 * standby's lock facts pg-lockwatch relies on: the startup process holds the ACCESS EXCLUSIVE locks of the primary's
 * open transactions and standby readers queue behind it; and replay itself waits, without bound with {@code
 * max_standby_streaming_delay = -1}, for a standby transaction that holds the table, with new readers queued behind
 * the waiting startup process. The shapes asserted here are the ones {@link StandbyServer}'s javadoc describes.
 */
class StandbyServerTests {

	private static final String DATABASE = PostgresServer.DEFAULT_DATABASE;
	private static final Duration WAIT = Duration.ofSeconds(30);
	// longer than the servers' deadlock_timeout (1s), after which the startup process asks the holders to check for
	// deadlocks; an idle holder must survive that
	private static final long PAST_DEADLOCK_TIMEOUT_MILLIS = 2500;

	@Nested
	class Postgres18 extends StandbyScenarios {

		Postgres18() {
			super(18);
		}
	}

	@Nested
	class Postgres14 extends StandbyScenarios {

		Postgres14() {
			super(14);
		}
	}

	/** One primary and one standby per major, shared by the scenarios; each scenario uses its own tables. */
	@TestInstance(Lifecycle.PER_CLASS)
	abstract static class StandbyScenarios {

		private final int major;
		private PostgresServer primary;
		private StandbyServer standby;

		StandbyScenarios(int major) {
			this.major = major;
		}

		@BeforeAll
		void startPrimaryAndStandby() {
			primary = PostgresServer.startNewEmbedded(major);
			standby = StandbyServer.start(primary);
		}

		@AfterAll
		void closeStandbyAndPrimary() {
			try {
				if (standby != null) {
					standby.close();
				}
			}
			finally {
				if (primary != null) {
					primary.close();
				}
			}
		}

		@Test
		void standbyIsInRecoveryStreamsFromThePrimaryAndReplaysWhatItCommits() throws Exception {
			try (Connection onPrimary = primary.connect(DATABASE, "standby_test_primary");
					Connection onStandby = standby.connect(DATABASE, "standby_test_reader")) {
				assertThat(standby.port()).isNotEqualTo(primary.port());
				assertThat(standby.jdbcUrl(DATABASE)).isEqualTo("jdbc:postgresql://localhost:" + standby.port() + "/" + DATABASE);
				assertThat(single(onStandby, "SELECT pg_is_in_recovery()")).isEqualTo("t");
				assertThat(single(onStandby, "SELECT current_setting('server_version_num')::int / 10000")).isEqualTo(
						Integer.toString(major));
				assertThat(single(onStandby, "SHOW hot_standby")).isEqualTo("on");
				assertThat(single(onStandby, "SHOW hot_standby_feedback")).isEqualTo("off");
				assertThat(single(onStandby, "SHOW max_standby_streaming_delay")).isEqualTo("-1");
				assertThat(single(onStandby, "SHOW max_standby_archive_delay")).isEqualTo("-1");
				assertThat(single(onStandby, "SELECT status FROM pg_stat_wal_receiver")).isEqualTo("streaming");
				assertThat(rows(onPrimary, "SELECT application_name, state FROM pg_stat_replication")).containsExactly(
						Map.of("application_name", "pglockwatch_standby", "state", "streaming"));
				assertThat(single(onPrimary, "SELECT active FROM pg_replication_slots WHERE slot_name = '"
						+ standby.slotName() + "'")).isEqualTo("t");

				execute(onPrimary, "CREATE TABLE replicated (id int PRIMARY KEY, v text)");
				execute(onPrimary, "INSERT INTO replicated SELECT i, 'v' || i FROM generate_series(1, 3) i");
				standby.awaitReplayed();

				assertThat(single(onStandby, "SELECT count(*) FROM replicated")).isEqualTo("3");
				assertThat(single(onStandby, "SELECT pg_last_xact_replay_timestamp() IS NOT NULL")).isEqualTo("t");
				assertThatThrownBy(() -> execute(onStandby, "INSERT INTO replicated VALUES (4, 'v4')"))
						.isInstanceOf(SQLException.class)
						.satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("25006"));

				// the startup process between records: no session, no transaction, waiting for WAL
				int startup = standby.startupPid();
				Map<String, Object> idle = awaitRow(onStandby, "SELECT * FROM pg_stat_activity WHERE pid = " + startup,
						row -> "RecoveryWalStream".equals(row.get("wait_event")));
				assertThat(idle).contains(entry("backend_type", "startup"), entry("wait_event_type", "Activity"),
						entry("state", null), entry("usename", null), entry("usesysid", null), entry("datname", null),
						entry("application_name", ""), entry("client_addr", null), entry("client_port", null),
						entry("query", ""), entry("query_start", null), entry("xact_start", null), entry("state_change", null),
						entry("backend_xid", null), entry("backend_xmin", null));
				assertThat(idle.get("backend_start")).isNotNull();
			}
		}

		@Test
		void readersQueueBehindTheStartupProcessThatHoldsAReplayedAccessExclusiveLock() throws Exception {
			try (Connection onPrimary = primary.connect(DATABASE, "standby_test_primary")) {
				execute(onPrimary, "CREATE TABLE queued_t (id int PRIMARY KEY)");
				execute(onPrimary, "INSERT INTO queued_t SELECT generate_series(1, 100)");
			}
			standby.awaitReplayed();
			List<CompletableFuture<Void>> readerResults = new ArrayList<>();
			try (LockScenario onPrimary = new LockScenario(primary, DATABASE, "standby_queue_primary");
					LockScenario onStandby = new LockScenario(standby.server(), DATABASE, "standby_queue");
					Connection admin = standby.connect(DATABASE, "standby_test_admin")) {
				LockScenario.Session ddl = onPrimary.session("ddl");
				ddl.execute("BEGIN; LOCK TABLE queued_t IN ACCESS EXCLUSIVE MODE");
				standby.awaitReplayed();
				List<LockScenario.Session> readers = new ArrayList<>();
				for (int i = 1; i <= 3; i++) {
					LockScenario.Session reader = onStandby.session("reader" + i);
					readers.add(reader);
					readerResults.add(reader.submit("SELECT count(*) FROM queued_t"));
				}
				onStandby.awaitLockWaiters(3, WAIT);

				int startup = standby.startupPid();
				String table = single(admin, "SELECT 'queued_t'::regclass::oid");
				// the startup process holds the lock on the primary transaction's behalf; it waits for nothing itself
				Map<String, Object> holding = row(admin, "SELECT * FROM pg_stat_activity WHERE pid = " + startup);
				assertThat(holding).contains(entry("backend_type", "startup"), entry("state", null), entry("usename", null),
						entry("query", ""), entry("xact_start", null));
				assertThat(holding.get("wait_event_type")).isNotEqualTo("Lock");
				List<Map<String, Object>> startupLocks = rows(admin, "SELECT locktype, database, relation::text, virtualxid, "
						+ "virtualtransaction, mode, granted, fastpath, waitstart FROM pg_locks WHERE pid = " + startup
						+ " ORDER BY locktype");
				assertThat(startupLocks).hasSize(2);
				Map<String, Object> relationLock = startupLocks.get(0);
				Map<String, Object> virtualxidLock = startupLocks.get(1);
				assertThat(relationLock).contains(entry("locktype", "relation"), entry("relation", table),
						entry("mode", "AccessExclusiveLock"), entry("granted", true), entry("fastpath", false),
						entry("waitstart", null));
				assertThat(relationLock.get("database")).isNotNull();
				// virtualtransaction '<n>/0' ('1/0' on 14, the startup process's proc number on 18, e.g. '1140/0'), and
				// its own virtualxid lock '<n>/1'
				String procNumber = ((String) relationLock.get("virtualtransaction")).replaceAll("/0$", "");
				assertThat((String) relationLock.get("virtualtransaction")).matches("\\d+/0");
				assertThat(virtualxidLock).contains(entry("locktype", "virtualxid"), entry("virtualxid", procNumber + "/1"),
						entry("virtualtransaction", procNumber + "/0"), entry("mode", "ExclusiveLock"), entry("granted", true));

				Map<Integer, Set<Integer>> blocked = onStandby.blockingPids();
				for (LockScenario.Session reader : readers) {
					assertThat(blocked).containsEntry(reader.pid(), Set.of(startup));
					assertThat(row(admin, "SELECT state, wait_event_type, wait_event FROM pg_stat_activity WHERE pid = "
							+ reader.pid())).containsExactlyEntriesOf(orderedMap("state", "active", "wait_event_type", "Lock",
									"wait_event", "relation"));
					Map<String, Object> wanted = row(admin, "SELECT relation::text, mode, granted, waitstart IS NOT NULL AS waits "
							+ "FROM pg_locks WHERE locktype = 'relation' AND pid = " + reader.pid() + " AND NOT granted");
					assertThat(wanted).containsExactlyEntriesOf(orderedMap("relation", table, "mode", "AccessShareLock",
							"granted", false, "waits", true));
				}
				assertThat(single(admin, "SELECT pg_last_xact_replay_timestamp() IS NOT NULL")).isEqualTo("t");

				ddl.execute("ROLLBACK");
				standby.awaitReplayed();
				for (CompletableFuture<Void> result : readerResults) {
					result.get(WAIT.toSeconds(), TimeUnit.SECONDS);
				}
				assertThat(single(admin, "SELECT count(*) FROM pg_locks WHERE relation = " + table)).isEqualTo("0");
			}
		}

		@Test
		void replayWaitsWithoutBoundForAStandbyTransactionThatHoldsTheTable() throws Exception {
			try (Connection onPrimary = primary.connect(DATABASE, "standby_test_primary")) {
				execute(onPrimary, "CREATE TABLE conflict_t (id int PRIMARY KEY)");
				execute(onPrimary, "INSERT INTO conflict_t SELECT generate_series(1, 100)");
			}
			standby.awaitReplayed();
			try (LockScenario onStandby = new LockScenario(standby.server(), DATABASE, "standby_conflict");
					Connection admin = standby.connect(DATABASE, "standby_test_admin");
					Connection onPrimary = primary.connect(DATABASE, "standby_test_primary")) {
				LockScenario.Session holder = onStandby.session("holder");
				holder.execute("BEGIN; SELECT * FROM conflict_t");
				String table = single(admin, "SELECT 'conflict_t'::regclass::oid");
				// done at once on the primary; its ACCESS EXCLUSIVE lock record is what replay stops at
				execute(onPrimary, "ALTER TABLE conflict_t ADD COLUMN x int");

				int startup = standby.startupPid();
				Map<String, Object> waiting = awaitRow(admin, "SELECT *, pg_blocking_pids(pid) AS blocking_pids "
						+ "FROM pg_stat_activity WHERE pid = " + startup, row -> "Lock".equals(row.get("wait_event_type")));
				assertThat(waiting).contains(entry("backend_type", "startup"), entry("wait_event", "relation"),
						entry("state", null), entry("query", ""), entry("xact_start", null));
				// pg_blocking_pids() does not see the startup process's wait: it says nothing, the holder is found in
				// pg_locks (its granted lock on the relation the startup process waits for)
				assertThat(waiting.get("blocking_pids")).isEqualTo(List.of());
				Map<String, Object> wanted = row(admin, "SELECT relation::text, mode, granted, waitstart IS NOT NULL AS waits, "
						+ "virtualtransaction ~ '^[0-9]+/0$' AS proc_slot_vxid FROM pg_locks WHERE locktype = 'relation' AND pid = "
						+ startup);
				assertThat(wanted).containsExactlyEntriesOf(orderedMap("relation", table, "mode", "AccessExclusiveLock",
						"granted", false, "waits", true, "proc_slot_vxid", true));
				assertThat(rows(admin, "SELECT pid, mode FROM pg_locks WHERE granted AND relation = " + table)).containsExactly(
						orderedMap("pid", holder.pid(), "mode", "AccessShareLock"));

				// a new reader of the table queues behind the waiting startup process
				LockScenario.Session reader = onStandby.session("reader");
				CompletableFuture<Void> read = reader.submit("SELECT count(*) FROM conflict_t");
				onStandby.awaitWaiting(reader, WAIT);
				assertThat(onStandby.blockingPids()).containsEntry(reader.pid(), Set.of(startup))
						.containsEntry(startup, Set.of());

				// without bound: past deadlock_timeout nothing is cancelled, the WAL received piles up unreplayed
				Thread.sleep(PAST_DEADLOCK_TIMEOUT_MILLIS);
				assertThat(holder.state()).isEqualTo("idle in transaction");
				assertThat(reader.waitEventType()).isEqualTo("Lock");
				assertThat(single(admin, "SELECT wait_event_type || '/' || wait_event FROM pg_stat_activity WHERE pid = "
						+ startup)).isEqualTo("Lock/relation");
				assertThat(single(admin, "SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()")).isEqualTo("t");
				Map<String, Object> conflicts = row(admin, "SELECT confl_tablespace, confl_lock, confl_snapshot, "
						+ "confl_bufferpin, confl_deadlock FROM pg_stat_database_conflicts WHERE datname = current_database()");
				assertThat(conflicts.values()).containsOnly(0L);

				holder.execute("COMMIT");
				standby.awaitReplayed();
				read.get(WAIT.toSeconds(), TimeUnit.SECONDS);
				assertThat(single(admin, "SELECT count(*) FROM conflict_t WHERE x IS NULL")).isEqualTo("100");
				assertThat(single(admin, "SELECT wait_event_type FROM pg_stat_activity WHERE pid = " + startup))
						.isNotEqualTo("Lock");
			}
		}

		/** Polls until the query's single row matches, or fails with the last row seen. */
		private Map<String, Object> awaitRow(Connection connection, String sql, Predicate<Map<String, Object>> condition)
				throws SQLException, InterruptedException {
			long deadline = System.nanoTime() + WAIT.toNanos();
			while (true) {
				Map<String, Object> row = row(connection, sql);
				if (condition.test(row)) {
					return row;
				}
				if (System.nanoTime() > deadline) {
					throw new AssertionError("timed out after " + WAIT.toSeconds() + " s waiting on " + standby + " for a row of `"
							+ sql + "` that matches; the last was " + row);
				}
				Thread.sleep(50);
			}
		}
	}

	private static void execute(Connection connection, String sql) throws SQLException {
		try (Statement statement = connection.createStatement()) {
			statement.execute(sql);
		}
	}

	private static String single(Connection connection, String sql) throws SQLException {
		try (Statement statement = connection.createStatement(); ResultSet rows = statement.executeQuery(sql)) {
			return rows.next() ? rows.getString(1) : null;
		}
	}

	private static Map<String, Object> row(Connection connection, String sql) throws SQLException {
		List<Map<String, Object>> rows = rows(connection, sql);
		assertThat(rows).as("rows of %s", sql).hasSize(1);
		return rows.get(0);
	}

	/** Every row as column label to value, in column order; arrays become lists. */
	private static List<Map<String, Object>> rows(Connection connection, String sql) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(sql); ResultSet rows = statement.executeQuery()) {
			ResultSetMetaData meta = rows.getMetaData();
			List<Map<String, Object>> result = new ArrayList<>();
			while (rows.next()) {
				Map<String, Object> row = new LinkedHashMap<>();
				for (int column = 1; column <= meta.getColumnCount(); column++) {
					Object value = rows.getObject(column);
					if (value instanceof Array array) {
						value = Arrays.asList((Object[]) array.getArray());
					}
					row.put(meta.getColumnLabel(column), value);
				}
				result.add(row);
			}
			return result;
		}
	}

	private static Map<String, Object> orderedMap(Object... keysAndValues) {
		Map<String, Object> map = new LinkedHashMap<>();
		for (int i = 0; i < keysAndValues.length; i += 2) {
			map.put((String) keysAndValues[i], keysAndValues[i + 1]);
		}
		return map;
	}
}
