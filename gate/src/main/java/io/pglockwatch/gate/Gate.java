package io.pglockwatch.gate;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;

import javax.sql.DataSource;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.callback.Callback;
import org.flywaydb.core.api.callback.Context;
import org.flywaydb.core.api.callback.Event;
import org.flywaydb.core.api.configuration.Configuration;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.core.api.output.MigrateResult;
import org.flywaydb.database.postgresql.PostgreSQLConfigurationExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lock-safe Flyway migrations (docs/gate.md). Every migration runs with a short {@code lock_timeout}; a watcher on a
 * second session cancels a migration statement that waits for a lock while others queue behind it for {@code
 * max-victim-wait}; a migration that failed on its lock that way is retried whole, after a backoff with full jitter,
 * up to {@code max-attempts} times within the {@code deadline}; then the gate gives up with a
 * {@link GateGaveUpException} naming who was in the way.
 *
 * <pre>{@code
 * Gate gate = new Gate(GateSettings.defaults());
 * Flyway flyway = gate.configure(Flyway.configure().dataSource(dataSource)).load();
 * gate.migrate(flyway);
 * }</pre>
 *
 * One gate runs one {@code migrate} at a time.
 */
public final class Gate {

	private static final Logger log = LoggerFactory.getLogger(Gate.class);

	private static final String SQLSTATE_LOCK_NOT_AVAILABLE = "55P03";
	private static final String SQLSTATE_QUERY_CANCELED = "57014";

	private final GateSettings settings;
	private final GateCallback callback = new GateCallback();
	private final PreCheck preCheck;
	/** Attempts so far, by migration key. */
	private final Map<String, Integer> attempts = new ConcurrentHashMap<>();
	/** When the first attempt of each migration started, by key. */
	private final Map<String, Long> firstStarted = new ConcurrentHashMap<>();
	/** INVALID indexes a failed non-transactional attempt left and the gate could not drop yet, by key. */
	private final Map<String, List<String>> pendingIndexDrops = new ConcurrentHashMap<>();

	/** The attempt in flight, or the last one of the current {@code migrate()} call. */
	private volatile Attempt current;
	private volatile Watcher watcher;
	private Connection watcherConnection;
	private DataSource watcherDataSource;
	private String watcherSavedApplicationName;
	private int serverVersionNum;
	private volatile boolean insideMigrate;

	public Gate(GateSettings settings) {
		this.settings = settings;
		this.preCheck = new PreCheck(settings);
	}

	public GateSettings settings() {
		return settings;
	}

	/** The Flyway callback that sets the timeouts and the application_name and runs the watcher. */
	public Callback callback() {
		return callback;
	}

	/**
	 * Adds the gate's callback to a Flyway configuration, keeping the callbacks it has, and makes Flyway hold its
	 * PostgreSQL advisory lock at session level ({@code postgresql.transactional.lock=false}): with the default
	 * transaction-level lock, Flyway keeps a transaction open on its own second session, which {@code CREATE INDEX
	 * CONCURRENTLY} waits for, so such a migration could never get its locks within {@code lock_timeout}.
	 */
	public FluentConfiguration configure(FluentConfiguration configuration) {
		PostgreSQLConfigurationExtension postgresql = configuration.getPluginRegister()
				.getExact(PostgreSQLConfigurationExtension.class);
		if (postgresql != null) {
			postgresql.setTransactionalLock(false);
		}
		Callback[] existing = configuration.getCallbacks();
		if (existing != null && Arrays.asList(existing).contains(callback)) {
			return configuration;
		}
		List<Callback> callbacks = new ArrayList<>(existing == null ? List.of() : Arrays.asList(existing));
		callbacks.add(callback);
		return configuration.callbacks(callbacks.toArray(new Callback[0]));
	}

	/**
	 * Runs {@code flyway.migrate()}, retrying a migration that failed on its lock (lock_timeout, or cancelled by the
	 * gate because sessions queued behind it) after a backoff; any other failure is thrown as it is.
	 * @throws GateGaveUpException when a migration could not get its locks in {@code max-attempts} attempts or within
	 * the {@code deadline}
	 */
	public MigrateResult migrate(Flyway flyway) {
		if (!Arrays.asList(flyway.getConfiguration().getCallbacks()).contains(callback)) {
			throw new IllegalStateException("this Flyway was not configured with this gate's callback; build it with "
					+ "gate.configure(Flyway.configure()...).load()");
		}
		insideMigrate = true;
		MigrateResult total = null;
		try {
			while (true) {
				current = null;
				try {
					MigrateResult result = flyway.migrate();
					total = merge(total, result);
					return total;
				}
				catch (FlywayException e) {
					stopWatcher();
					Attempt attempt = current;
					if (attempt == null || attempt == callback.succeeded) {
						throw e; // not a migration's failure: validation, connection, ...
					}
					retryOrThrow(flyway.getConfiguration(), attempt, e);
				}
			}
		}
		finally {
			stopWatcher();
			insideMigrate = false;
			closeWatcherConnection();
		}
	}

	private enum Failure {
		NOT_STARTED, LOCK_TIMEOUT, SELF_CANCEL, OTHER
	}

	private void retryOrThrow(Configuration configuration, Attempt attempt, FlywayException e) {
		Failure failure = classify(e, attempt);
		String outcome = outcome(failure, attempt, e);
		if (failure == Failure.OTHER) {
			log.info("{}: {}", attemptLine(attempt), outcome);
			forget(attempt.key);
			throw e;
		}
		String cleanup = "";
		if (!attempt.transactional && failure != Failure.NOT_STARTED) {
			cleanup = cleanUp(configuration, attempt);
		}
		long elapsed = (System.nanoTime() - firstStarted.getOrDefault(attempt.key, attempt.startedNanos)) / 1_000_000;
		long ceiling = settings.backoffCeiling(attempt.number).toMillis();
		long delay = ThreadLocalRandom.current().nextLong(ceiling + 1);
		String reason = null;
		if (attempt.number >= attempt.maxAttempts) {
			reason = "after " + attempt.number + "/" + attempt.maxAttempts + " attempts";
		}
		else if (elapsed + delay >= settings.deadline().toMillis()) {
			reason = "at its deadline (" + settings.deadline() + ") after " + attempt.number + " attempts in "
					+ elapsed + " ms";
		}
		if (reason != null) {
			String after = giveUpCleanup(configuration, attempt);
			log.warn("{}: {}{}; giving up", attemptLine(attempt), outcome, cleanup);
			forget(attempt.key);
			throw new GateGaveUpException(giveUpMessage(attempt, reason, outcome, after), attempt.migration,
					attempt.number, attempt.blockers, e);
		}
		log.info("{}: {}{}; next attempt in {} ms", attemptLine(attempt), outcome, cleanup, delay);
		try {
			Thread.sleep(delay);
		}
		catch (InterruptedException interrupted) {
			Thread.currentThread().interrupt();
			throw new FlywayException("interrupted while waiting to retry " + attempt.migration, e);
		}
	}

	private static Failure classify(Throwable e, Attempt attempt) {
		for (Throwable t = e; t != null; t = t.getCause()) {
			if (t instanceof NotNowException) {
				return Failure.NOT_STARTED;
			}
			if (t instanceof SQLException sql) {
				for (SQLException s = sql; s != null; s = s.getNextException()) {
					if (SQLSTATE_LOCK_NOT_AVAILABLE.equals(s.getSQLState())) {
						return Failure.LOCK_TIMEOUT;
					}
					if (SQLSTATE_QUERY_CANCELED.equals(s.getSQLState())) {
						return attempt.cancelledByGate ? Failure.SELF_CANCEL : Failure.OTHER;
					}
				}
			}
			if (t.getCause() == t) {
				break;
			}
		}
		return Failure.OTHER;
	}

	private String outcome(Failure failure, Attempt attempt, Throwable e) {
		return switch (failure) {
			case NOT_STARTED -> "not started: " + attempt.notStartedReason;
			case LOCK_TIMEOUT -> "lock_timeout after " + attempt.elapsedMillis() + " ms" + blockersSuffix(attempt);
			case SELF_CANCEL -> "cancelled itself at " + attempt.victims + " waiters after " + attempt.waitedMillis
					+ " ms" + blockersSuffix(attempt);
			case OTHER -> "failed: other error: " + rootMessage(e);
		};
	}

	private static String blockersSuffix(Attempt attempt) {
		List<Blocker> blockers = attempt.blockers;
		if (blockers.isEmpty()) {
			return "";
		}
		return ", in the way: " + blockers.stream().limit(3).map(Blocker::describe).collect(Collectors.joining("; "))
				+ (blockers.size() > 3 ? "; and " + (blockers.size() - 3) + " more" : "");
	}

	/** {@code gate V42 attempt 3/10, AccessExclusiveLock on public.users, waited 210 ms, victims 20 (longest 201 ms)}. */
	static String attemptLine(Attempt attempt) {
		return "gate " + attempt.migration + " attempt " + attempt.number + "/" + attempt.maxAttempts + ", "
				+ (attempt.waitedFor == null ? "no lock wait" : attempt.waitedFor + ", waited " + attempt.waitedMillis + " ms")
				+ ", victims " + attempt.maxVictims
				+ (attempt.maxVictims > 0 ? " (longest " + attempt.longestVictimMillis + " ms)" : "");
	}

	private static String rootMessage(Throwable e) {
		Throwable root = e;
		while (root.getCause() != null && root.getCause() != root) {
			root = root.getCause();
		}
		String message = String.valueOf(root.getMessage()).strip();
		int newline = message.indexOf('\n');
		return newline < 0 ? message : message.substring(0, newline);
	}

	private String giveUpMessage(Attempt attempt, String reason, String outcome, String after) {
		StringBuilder message = new StringBuilder("pglockwatch gate gave up on migration ").append(attempt.migration)
				.append(' ').append(reason).append(": it could not get its locks without making other sessions wait")
				.append(" (last attempt: ").append(outcome.replaceFirst(", in the way: .*", "")).append(").");
		List<Blocker> blockers = attempt.blockers;
		if (blockers.isEmpty()) {
			message.append(" No session was seen in its way.");
		}
		else {
			message.append(" In its way when last seen: ");
			message.append(blockers.stream().map(Blocker::describe).collect(Collectors.joining("; "))).append('.');
		}
		message.append(' ').append(after);
		return message.toString();
	}

	private String giveUpCleanup(Configuration configuration, Attempt attempt) {
		if (attempt.notStartedReason != null) {
			return "The schema and the Flyway history are as before " + attempt.migration + ": it did not start.";
		}
		if (attempt.transactional) {
			return "The schema and the Flyway history are as before " + attempt.migration
					+ ": its transaction was rolled back.";
		}
		List<String> pending = pendingIndexDrops.get(attempt.key);
		if (pending != null && !pending.isEmpty()) {
			dropIndexes(configuration, attempt.key, pending);
			pending = pendingIndexDrops.get(attempt.key);
		}
		if (pending != null && !pending.isEmpty()) {
			return "Its failed history row was removed, but the INVALID index(es) " + pending + " it left could not "
					+ "be dropped yet (their table is still locked): drop them with DROP INDEX CONCURRENTLY before "
					+ "running it again.";
		}
		return "The schema and the Flyway history are as before " + attempt.migration + ": it ran outside a "
				+ "transaction, and the gate dropped what it left (INVALID indexes) and removed its failed history row.";
	}

	private void forget(String key) {
		attempts.remove(key);
		firstStarted.remove(key);
		pendingIndexDrops.remove(key);
	}

	private static MigrateResult merge(MigrateResult total, MigrateResult next) {
		if (total == null) {
			return next;
		}
		total.migrations.addAll(next.migrations);
		total.migrationsExecuted += next.migrationsExecuted;
		total.targetSchemaVersion = next.targetSchemaVersion;
		total.success = next.success;
		return total;
	}

	// --- after a failed non-transactional attempt --------------------------------------------------------------

	/** Removes the failed history row and drops the INVALID indexes the attempt left; says what it did. */
	private String cleanUp(Configuration configuration, Attempt attempt) {
		StringBuilder done = new StringBuilder();
		try (Connection connection = configuration.getDataSource().getConnection()) {
			connection.setAutoCommit(true);
			int rows = deleteFailedHistoryRow(configuration, connection, attempt);
			if (rows > 0) {
				done.append("; removed its failed history row");
			}
			List<String> leftovers = new ArrayList<>();
			for (String[] index : invalidIndexes(connection)) {
				long oid = Long.parseLong(index[0]);
				if (!attempt.invalidIndexesBefore.contains(oid) && attempt.concurrentIndexNames.contains(index[2])) {
					leftovers.add(quote(index[1]) + "." + quote(index[2]));
				}
			}
			if (!leftovers.isEmpty()) {
				pendingIndexDrops.merge(attempt.key, leftovers, (a, b) -> {
					List<String> all = new ArrayList<>(a);
					b.stream().filter(x -> !all.contains(x)).forEach(all::add);
					return all;
				});
			}
		}
		catch (SQLException e) {
			log.warn("gate could not clean up after {}: {}", attempt.migration, e.getMessage());
			return "; clean-up failed: " + e.getMessage();
		}
		List<String> pending = pendingIndexDrops.get(attempt.key);
		if (pending != null && !pending.isEmpty()) {
			List<String> toDrop = List.copyOf(pending);
			dropIndexes(configuration, attempt.key, toDrop);
			List<String> left = pendingIndexDrops.getOrDefault(attempt.key, List.of());
			List<String> dropped = toDrop.stream().filter(i -> !left.contains(i)).toList();
			if (!dropped.isEmpty()) {
				done.append("; dropped INVALID index ").append(String.join(", ", dropped));
			}
			if (!left.isEmpty()) {
				done.append("; INVALID index ").append(String.join(", ", left)).append(" not dropped yet (locked), "
						+ "dropped before the next attempt");
			}
		}
		return done.toString();
	}

	/** Drops INVALID indexes left by earlier attempts, before the next one; true when none is left. */
	boolean dropPendingIndexes(Configuration configuration, String key) {
		List<String> pending = pendingIndexDrops.get(key);
		if (pending == null || pending.isEmpty()) {
			return true;
		}
		dropIndexes(configuration, key, List.copyOf(pending));
		List<String> left = pendingIndexDrops.get(key);
		return left == null || left.isEmpty();
	}

	private void dropIndexes(Configuration configuration, String key, List<String> indexes) {
		try (Connection connection = configuration.getDataSource().getConnection();
				Statement statement = connection.createStatement()) {
			connection.setAutoCommit(true);
			String saved = currentSetting(connection, "lock_timeout");
			statement.execute("SET lock_timeout = '" + settings.lockTimeout().toMillis() + "ms'");
			try {
				for (String index : indexes) {
					try {
						statement.execute("DROP INDEX CONCURRENTLY IF EXISTS " + index);
						pendingIndexDrops.computeIfPresent(key, (k, list) -> {
							List<String> rest = new ArrayList<>(list);
							rest.remove(index);
							return rest.isEmpty() ? null : rest;
						});
						log.info("gate dropped the INVALID index {} a failed attempt left", index);
					}
					catch (SQLException e) {
						log.info("gate could not drop the INVALID index {} yet: {}", index, e.getMessage());
					}
				}
			}
			finally {
				statement.execute("SELECT set_config('lock_timeout', " + literal(saved) + ", false)");
			}
		}
		catch (SQLException e) {
			log.warn("gate could not drop INVALID indexes {}: {}", indexes, e.getMessage());
		}
	}

	private static int deleteFailedHistoryRow(Configuration configuration, Connection connection, Attempt attempt)
			throws SQLException {
		String schema = configuration.getDefaultSchema();
		if (schema == null && configuration.getSchemas() != null && configuration.getSchemas().length > 0) {
			schema = configuration.getSchemas()[0];
		}
		if (schema == null) {
			try (Statement statement = connection.createStatement();
					ResultSet rows = statement.executeQuery("SELECT current_schema()")) {
				rows.next();
				schema = rows.getString(1);
			}
		}
		String table = quote(schema) + "." + quote(configuration.getTable());
		boolean versioned = attempt.version != null;
		String sql = "DELETE FROM " + table + " WHERE NOT success AND "
				+ (versioned ? "version = ?" : "version IS NULL AND description = ?");
		try (PreparedStatement statement = connection.prepareStatement(sql)) {
			statement.setString(1, versioned ? attempt.version : attempt.description);
			return statement.executeUpdate();
		}
		catch (SQLException e) {
			if ("42P01".equals(e.getSQLState())) {
				return 0; // no history table yet
			}
			throw e;
		}
	}

	private static List<String[]> invalidIndexes(Connection connection) throws SQLException {
		List<String[]> found = new ArrayList<>();
		try (Statement statement = connection.createStatement();
				ResultSet rows = statement.executeQuery("""
						SELECT c.oid, n.nspname, c.relname FROM pg_index i
						JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
						WHERE NOT i.indisvalid""")) {
			while (rows.next()) {
				found.add(new String[] { rows.getString(1), rows.getString(2), rows.getString(3) });
			}
		}
		return found;
	}

	// --- the callback ------------------------------------------------------------------------------------------

	private final class GateCallback implements Callback {

		/** The last attempt that succeeded, so a later failure outside any migration is not taken for it. */
		volatile Attempt succeeded;

		@Override
		public boolean supports(Event event, Context context) {
			return event == Event.BEFORE_EACH_MIGRATE || event == Event.AFTER_EACH_MIGRATE
					|| event == Event.AFTER_EACH_MIGRATE_ERROR;
		}

		@Override
		public boolean canHandleInTransaction(Event event, Context context) {
			return true;
		}

		@Override
		public void handle(Event event, Context context) {
			try {
				if (event == Event.BEFORE_EACH_MIGRATE) {
					before(context);
				}
				else {
					after(event == Event.AFTER_EACH_MIGRATE, context);
				}
			}
			catch (SQLException e) {
				throw new FlywayException("pglockwatch gate: " + event.getId() + " failed: " + e.getMessage(), e);
			}
		}

		@Override
		public String getCallbackName() {
			return "pglockwatch-gate";
		}

		private void before(Context context) throws SQLException {
			MigrationInfo info = context.getMigrationInfo();
			String version = info.getVersion() == null ? null : info.getVersion().getVersion();
			String name = version != null ? "V" + version : "R__" + info.getDescription().replace(' ', '_');
			String key = version != null ? "V" + version : "R " + info.getDescription();
			int number = attempts.merge(key, 1, Integer::sum);
			firstStarted.putIfAbsent(key, System.nanoTime());
			Attempt attempt = new Attempt(name, key, number, settings.maxAttempts());
			attempt.version = version;
			attempt.description = info.getDescription();
			current = attempt;

			Connection connection = context.getConnection();
			attempt.transactional = !connection.getAutoCommit();
			try (Statement statement = connection.createStatement();
					ResultSet rows = statement.executeQuery("SELECT pg_backend_pid()")) {
				rows.next();
				attempt.pid = rows.getInt(1);
			}
			Connection watching = watcherConnection(context.getConfiguration());
			List<String> statements = MigrationStatements.of(info, context.getConfiguration());
			attempt.concurrentIndexNames = Set.copyOf(MigrationStatements.concurrentIndexNames(statements));

			if (!dropPendingIndexes(context.getConfiguration(), key)) {
				attempt.notStartedReason = "INVALID index " + pendingIndexDrops.get(key)
						+ " of an earlier attempt could not be dropped yet";
				throw new NotNowException(attempt.notStartedReason, attempt.blockers);
			}
			if (settings.preCheck()) {
				List<Blocker> inTheWay = preCheck.inTheWay(statements, watching, attempt.pid);
				if (!inTheWay.isEmpty()) {
					attempt.blockers = inTheWay;
					attempt.notStartedReason = inTheWay.size() + (inTheWay.size() == 1 ? " session" : " sessions")
							+ " in the way: " + inTheWay.stream().map(Blocker::describe).collect(Collectors.joining("; "));
					throw new NotNowException(attempt.notStartedReason, inTheWay);
				}
			}
			if (!attempt.transactional) {
				attempt.savedApplicationName = currentSetting(connection, "application_name");
				attempt.savedLockTimeout = currentSetting(connection, "lock_timeout");
				attempt.savedStatementTimeout = currentSetting(connection, "statement_timeout");
				Set<Long> before = new HashSet<>();
				for (String[] index : invalidIndexes(watching)) {
					before.add(Long.parseLong(index[0]));
				}
				attempt.invalidIndexesBefore = before;
			}
			long remaining = settings.deadline().toMillis()
					- (System.nanoTime() - firstStarted.get(key)) / 1_000_000;
			long lockTimeout = Math.max(1, Math.min(settings.lockTimeout().toMillis(), remaining));
			boolean local = attempt.transactional;
			Map<String, String> values = new LinkedHashMap<>();
			values.put("application_name", attempt.applicationName());
			values.put("lock_timeout", lockTimeout + "ms");
			if (!settings.statementTimeout().isZero()) {
				values.put("statement_timeout", settings.statementTimeout().toMillis() + "ms");
			}
			try (PreparedStatement statement = connection.prepareStatement("SELECT set_config(?, ?, ?)")) {
				for (Map.Entry<String, String> value : values.entrySet()) {
					statement.setString(1, value.getKey());
					statement.setString(2, value.getValue());
					statement.setBoolean(3, local);
					statement.execute();
				}
			}
			Watcher started = new Watcher(attempt, watching, settings, serverVersionNum);
			watcher = started;
			started.start();
		}

		private void after(boolean success, Context context) throws SQLException {
			stopWatcher();
			Attempt attempt = current;
			if (attempt == null) {
				return;
			}
			try {
				if (!attempt.transactional) {
					Connection connection = context.getConnection();
					try (PreparedStatement statement = connection.prepareStatement("SELECT set_config(?, ?, false)")) {
						restore(statement, "application_name", attempt.savedApplicationName);
						restore(statement, "lock_timeout", attempt.savedLockTimeout);
						restore(statement, "statement_timeout", attempt.savedStatementTimeout);
					}
				}
				if (success) {
					succeeded = attempt;
					log.info("{}: applied in {} ms", attemptLine(attempt), attempt.elapsedMillis());
					forget(attempt.key);
				}
			}
			finally {
				if (!insideMigrate) {
					closeWatcherConnection();
				}
			}
		}

		private void restore(PreparedStatement statement, String name, String value) throws SQLException {
			if (value != null) {
				statement.setString(1, name);
				statement.setString(2, value);
				statement.execute();
			}
		}

	}

	private void stopWatcher() {
		Watcher running = watcher;
		watcher = null;
		if (running != null) {
			running.stop();
		}
	}

	// --- the watcher's session ---------------------------------------------------------------------------------

	private synchronized Connection watcherConnection(Configuration configuration) throws SQLException {
		DataSource dataSource = configuration.getDataSource();
		if (watcherConnection != null && (watcherDataSource != dataSource || watcherConnection.isClosed())) {
			closeWatcherConnection();
		}
		if (watcherConnection == null) {
			Connection connection = dataSource.getConnection();
			try {
				connection.setAutoCommit(true);
				watcherSavedApplicationName = currentSetting(connection, "application_name");
				try (Statement statement = connection.createStatement()) {
					statement.execute("SET application_name = 'pglockwatch-gate watcher'");
					try (ResultSet rows = statement.executeQuery("SHOW server_version_num")) {
						rows.next();
						serverVersionNum = Integer.parseInt(rows.getString(1));
					}
				}
			}
			catch (SQLException | RuntimeException e) {
				connection.close();
				throw e;
			}
			watcherConnection = connection;
			watcherDataSource = dataSource;
		}
		return watcherConnection;
	}

	private synchronized void closeWatcherConnection() {
		Connection connection = watcherConnection;
		watcherConnection = null;
		watcherDataSource = null;
		if (connection == null) {
			return;
		}
		try (connection) {
			// a pooled connection goes back to its pool: leave it as it was
			try (PreparedStatement statement = connection.prepareStatement("SELECT set_config('application_name', ?, false)")) {
				statement.setString(1, watcherSavedApplicationName == null ? "" : watcherSavedApplicationName);
				statement.execute();
			}
		}
		catch (SQLException e) {
			log.debug("gate watcher session close: {}", e.getMessage());
		}
	}

	private static String currentSetting(Connection connection, String name) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement("SELECT current_setting(?)")) {
			statement.setString(1, name);
			try (ResultSet rows = statement.executeQuery()) {
				rows.next();
				return rows.getString(1);
			}
		}
	}

	private static String quote(String identifier) {
		return '"' + identifier.replace("\"", "\"\"") + '"';
	}

	private static String literal(String value) {
		return "'" + value.replace("'", "''") + "'";
	}

	/** For tests: the sleep ceiling before attempt k + 1. */
	Duration backoffCeiling(int failedAttempts) {
		return settings.backoffCeiling(failedAttempts);
	}

}
