package io.pglockwatch.testsupport;

import org.postgresql.PGConnection;

import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Stages real lock situations on a {@link PostgresServer} with real concurrent sessions, e.g. a transaction holding
 * a lock, a DDL queued behind it and readers queued behind the DDL.
 *
 * <p>Every session has its own JDBC connection in autocommit mode (an explicit {@code BEGIN} keeps a transaction open
 * across {@link Session#execute} calls) and the application_name {@code prefix + "_" + name}, which is how the await
 * methods find the scenario's sessions in pg_stat_activity. {@link #close()} terminates them all; it never waits
 * without a bound.
 */
public final class LockScenario implements AutoCloseable {

	// application_name is cut to NAMEDATALEN - 1 bytes by the server, which would break the prefix match
	private static final int MAX_APPLICATION_NAME_BYTES = 63;
	// a guard for execute() on a statement that blocks by mistake; fails the test instead of hanging it
	private static final int EXECUTE_TIMEOUT_SECONDS = 30;
	private static final int ADMIN_QUERY_TIMEOUT_SECONDS = 10;
	private static final Duration CLOSE_WAIT = Duration.ofSeconds(15);
	private static final Duration WORKER_STOP_WAIT = Duration.ofSeconds(2);
	private static final long POLL_MILLIS = 20;

	private final PostgresServer server;
	private final String database;
	private final String prefix;
	/** Observes and terminates the sessions; its application_name does not match the prefix. Guarded by itself. */
	private final Connection admin;
	/** In creation order. Guarded by this. */
	private final List<Session> sessions = new ArrayList<>();
	private boolean closed;

	/**
	 * @param prefix tags every session's application_name as {@code prefix_name}; use one per test, as two scenarios with
	 *               one prefix would see each other's sessions
	 */
	public LockScenario(PostgresServer server, String database, String prefix) {
		if (prefix == null || prefix.isBlank()) {
			throw new IllegalArgumentException("prefix must not be blank");
		}
		this.server = server;
		this.database = database;
		this.prefix = prefix;
		try {
			this.admin = server.connect(database, "lockscenario-admin:" + prefix);
		}
		catch (SQLException e) {
			throw new IllegalStateException("could not connect to " + database + " on " + server, e);
		}
	}

	public String prefix() {
		return prefix;
	}

	/** The sessions opened so far, oldest first. */
	public synchronized List<Session> sessions() {
		return List.copyOf(sessions);
	}

	/** Opens a session with its own connection and the application_name {@code prefix_name}. */
	public Session session(String name) {
		String applicationName = prefix + "_" + name;
		if (applicationName.getBytes(StandardCharsets.UTF_8).length > MAX_APPLICATION_NAME_BYTES) {
			throw new IllegalArgumentException("application_name '" + applicationName + "' is longer than "
					+ MAX_APPLICATION_NAME_BYTES + " bytes; PostgreSQL would cut it");
		}
		Connection connection;
		try {
			connection = server.connect(database, applicationName);
		}
		catch (SQLException e) {
			throw new IllegalStateException("could not open session " + applicationName + " on " + server, e);
		}
		synchronized (this) {
			if (closed) {
				closeQuietly(connection);
				throw new IllegalStateException("scenario " + prefix + " is closed");
			}
			Session session = new Session(name, applicationName, connection);
			sessions.add(session);
			return session;
		}
	}

	/**
	 * The incident pg-lockwatch exists for, staged for real: session {@code holder} reads {@code table} in a
	 * transaction it leaves idle, session {@code ddl} runs {@code ALTER TABLE <table> <alteration>} and waits for
	 * ACCESS EXCLUSIVE behind it, and {@code queued} sessions {@code api1, api2...} run
	 * {@code SELECT count(*) FROM <table>} queued behind the ALTER. Returns once all of them wait.
	 */
	public DdlQueue stageDdlQueue(String table, String alteration, int queued) throws SQLException {
		Session holder = session("holder");
		holder.execute("BEGIN; SELECT * FROM " + table + " LIMIT 1");
		Session ddl = session("ddl");
		CompletableFuture<Void> alter = ddl.submit("ALTER TABLE " + table + " " + alteration);
		awaitWaiting(ddl, Duration.ofSeconds(10));
		List<Session> readers = new ArrayList<>();
		List<CompletableFuture<Void>> results = new ArrayList<>();
		for (int i = 1; i <= queued; i++) {
			Session reader = session("api" + i);
			results.add(reader.submit("SELECT count(*) FROM " + table));
			readers.add(reader);
		}
		awaitLockWaiters(queued + 1, Duration.ofSeconds(10 + queued / 10));
		return new DdlQueue(holder, ddl, alter, List.copyOf(readers), List.copyOf(results));
	}

	/**
	 * A staged DDL lock queue: the idle holder, the waiting DDL and what its ALTER TABLE ends with, the queued readers
	 * and what their SELECTs end with.
	 */
	public record DdlQueue(Session holder, Session ddl, CompletableFuture<Void> alter, List<Session> queued,
			List<CompletableFuture<Void>> queuedResults) {
	}

	/** Waits until at least {@code count} of this scenario's sessions wait on a heavyweight lock. */
	public void awaitLockWaiters(int count, Duration timeout) {
		awaitCondition(() -> lockWaiterCount() >= count, timeout,
				() -> "at least " + count + " of the sessions " + prefix + "_* to wait on a lock (" + lockWaiterCount() + " do)");
	}

	/** Waits until the session waits on a heavyweight lock; fails at once if its submitted statement ended instead. */
	public void awaitWaiting(Session session, Duration timeout) {
		awaitCondition(() -> {
			CompletableFuture<Void> submitted = session.lastSubmission();
			if (submitted != null && submitted.isDone()) {
				throw new AssertionError("session " + session.applicationName() + " was expected to wait on a lock, but its "
						+ "statement ended: " + outcome(submitted) + "\n" + describeScenario());
			}
			return "Lock".equals(session.waitEventType());
		}, timeout, () -> "session " + session.applicationName() + " (pid " + session.pid() + ") to wait on a lock");
	}

	/** Waits until none of this scenario's sessions waits on a heavyweight lock. */
	public void awaitNoWaiters(Duration timeout) {
		awaitCondition(() -> lockWaiterCount() == 0, timeout,
				() -> "no session " + prefix + "_* to wait on a lock (" + lockWaiterCount() + " do)");
	}

	/**
	 * The ground truth the product is compared against: for every backend of the whole server that waits on a
	 * heavyweight lock (wait_event_type = 'Lock'), its pid mapped to pg_blocking_pids(pid). Sorted, unmodifiable.
	 */
	public Map<Integer, Set<Integer>> blockingPids() {
		Map<Integer, Set<Integer>> result = new TreeMap<>();
		synchronized (admin) {
			try (Statement statement = adminStatement();
					ResultSet rows = statement.executeQuery(
							"SELECT pid, pg_blocking_pids(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")) {
				while (rows.next()) {
					result.put(rows.getInt(1), Collections.unmodifiableSet(new TreeSet<>(intArray(rows.getArray(2)))));
				}
			}
			catch (SQLException e) {
				throw new IllegalStateException("could not read pg_blocking_pids on " + server, e);
			}
		}
		return Collections.unmodifiableMap(result);
	}

	/** pg_stat_activity of this scenario's sessions as a table, for failure messages. */
	public String describeScenario() {
		StringBuilder text = new StringBuilder("pg_stat_activity of ").append(prefix).append("_* on ").append(server).append(":\n");
		text.append(String.format("%-8s %-28s %-20s %-10s %-18s %-16s %s%n", "pid", "application_name", "state",
				"wait_type", "wait_event", "blocked_by", "query"));
		synchronized (admin) {
			try (PreparedStatement statement = admin.prepareStatement("""
					SELECT pid, application_name, state, wait_event_type, wait_event, pg_blocking_pids(pid)::text, left(query, 120)
					FROM pg_stat_activity WHERE starts_with(application_name, ?) ORDER BY backend_start, pid""")) {
				statement.setQueryTimeout(ADMIN_QUERY_TIMEOUT_SECONDS);
				statement.setString(1, prefix + "_");
				try (ResultSet rows = statement.executeQuery()) {
					while (rows.next()) {
						text.append(String.format("%-8d %-28s %-20s %-10s %-18s %-16s %s%n", rows.getInt(1), rows.getString(2),
								rows.getString(3), rows.getString(4), rows.getString(5), rows.getString(6),
								rows.getString(7).replaceAll("\\s+", " ")));
					}
				}
			}
			catch (SQLException e) {
				text.append("(could not read pg_stat_activity: ").append(e.getMessage()).append(")\n");
			}
		}
		for (Session session : sessions()) {
			CompletableFuture<Void> submitted = session.lastSubmission();
			if (submitted != null && submitted.isDone()) {
				text.append(session.applicationName()).append(": submitted statement ").append(outcome(submitted)).append('\n');
			}
		}
		return text.toString();
	}

	/**
	 * Terminates the sessions newest first, so a queued DDL dies before the transaction it waits for releases its lock
	 * and never runs; then waits until they have left pg_stat_activity and releases connections and threads.
	 */
	@Override
	public void close() {
		List<Session> ending;
		synchronized (this) {
			if (closed) {
				return;
			}
			closed = true;
			ending = new ArrayList<>(sessions);
		}
		Collections.reverse(ending);
		List<Integer> pids = ending.stream().map(Session::pid).toList();
		List<Integer> remaining = List.of();
		SQLException failure = null;
		synchronized (admin) {
			try {
				terminate(pids);
				remaining = awaitGone(pids);
			}
			catch (SQLException e) {
				failure = e;
			}
		}
		ending.forEach(Session::release);
		closeQuietly(admin);
		if (failure != null) {
			throw new IllegalStateException("could not terminate the sessions of scenario " + prefix, failure);
		}
		if (!remaining.isEmpty()) {
			throw new IllegalStateException("sessions of scenario " + prefix + " still in pg_stat_activity "
					+ CLOSE_WAIT.toSeconds() + " s after pg_terminate_backend: pids " + remaining);
		}
	}

	private void terminate(List<Integer> pidsNewestFirst) throws SQLException {
		// one call per pid, in order: a single statement over all pids would not promise the order
		try (PreparedStatement statement = admin.prepareStatement("SELECT pg_terminate_backend(?)")) {
			statement.setQueryTimeout(ADMIN_QUERY_TIMEOUT_SECONDS);
			for (int pid : pidsNewestFirst) {
				statement.setInt(1, pid);
				try (ResultSet ignored = statement.executeQuery()) {
					// false only when the backend is already gone
				}
			}
		}
	}

	private List<Integer> awaitGone(List<Integer> pids) throws SQLException {
		long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
		try (PreparedStatement statement = admin.prepareStatement("SELECT pid FROM pg_stat_activity WHERE pid = ANY (?)")) {
			statement.setQueryTimeout(ADMIN_QUERY_TIMEOUT_SECONDS);
			statement.setArray(1, admin.createArrayOf("int4", pids.toArray()));
			while (true) {
				List<Integer> remaining = new ArrayList<>();
				try (ResultSet rows = statement.executeQuery()) {
					while (rows.next()) {
						remaining.add(rows.getInt(1));
					}
				}
				if (remaining.isEmpty() || System.nanoTime() > deadline) {
					return remaining;
				}
				pause();
			}
		}
	}

	private int lockWaiterCount() {
		synchronized (admin) {
			try (PreparedStatement statement = admin.prepareStatement(
					"SELECT count(*) FROM pg_stat_activity WHERE starts_with(application_name, ?) AND wait_event_type = 'Lock'")) {
				statement.setQueryTimeout(ADMIN_QUERY_TIMEOUT_SECONDS);
				statement.setString(1, prefix + "_");
				try (ResultSet rows = statement.executeQuery()) {
					rows.next();
					return rows.getInt(1);
				}
			}
			catch (SQLException e) {
				throw new IllegalStateException("could not read pg_stat_activity on " + server, e);
			}
		}
	}

	private String activityColumn(int pid, String column) {
		synchronized (admin) {
			try (PreparedStatement statement = admin.prepareStatement("SELECT " + column + " FROM pg_stat_activity WHERE pid = ?")) {
				statement.setQueryTimeout(ADMIN_QUERY_TIMEOUT_SECONDS);
				statement.setInt(1, pid);
				try (ResultSet rows = statement.executeQuery()) {
					return rows.next() ? rows.getString(1) : null;
				}
			}
			catch (SQLException e) {
				throw new IllegalStateException("could not read pg_stat_activity on " + server, e);
			}
		}
	}

	private Statement adminStatement() throws SQLException {
		Statement statement = admin.createStatement();
		statement.setQueryTimeout(ADMIN_QUERY_TIMEOUT_SECONDS);
		return statement;
	}

	private void awaitCondition(BooleanSupplier condition, Duration timeout, Supplier<String> expectation) {
		long deadline = System.nanoTime() + timeout.toNanos();
		while (!condition.getAsBoolean()) {
			if (System.nanoTime() > deadline) {
				throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + expectation.get() + "\n"
						+ describeScenario());
			}
			pause();
		}
	}

	private static List<Integer> intArray(Array array) throws SQLException {
		return array == null ? List.of() : Arrays.asList((Integer[]) array.getArray());
	}

	private static String outcome(CompletableFuture<Void> submitted) {
		if (submitted.isCompletedExceptionally()) {
			Throwable cause = submitted.handle((ignored, error) -> error).join();
			return "failed: " + cause;
		}
		return "completed";
	}

	private static void pause() {
		try {
			Thread.sleep(POLL_MILLIS);
		}
		catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("interrupted while waiting on PostgreSQL", e);
		}
	}

	private static void closeQuietly(Connection connection) {
		try {
			connection.close();
		}
		catch (SQLException | RuntimeException e) {
			// the backend may already be terminated; nothing left to release on the server
		}
	}

	/**
	 * One backend of a {@link LockScenario}: a dedicated connection (autocommit) and, once something is submitted, a
	 * dedicated thread to run statements that block.
	 */
	public final class Session {

		private final String name;
		private final String applicationName;
		private final Connection connection;
		private final int pid;
		/** Guarded by this. */
		private ExecutorService worker;
		/** Guarded by this. */
		private CompletableFuture<Void> lastSubmission;

		private Session(String name, String applicationName, Connection connection) {
			this.name = name;
			this.applicationName = applicationName;
			this.connection = connection;
			try {
				this.pid = connection.unwrap(PGConnection.class).getBackendPID();
			}
			catch (SQLException e) {
				closeQuietly(connection);
				throw new IllegalStateException("not a PostgreSQL connection", e);
			}
		}

		public String name() {
			return name;
		}

		public String applicationName() {
			return applicationName;
		}

		public int pid() {
			return pid;
		}

		/**
		 * Runs SQL on the calling thread, for statements that return at once, e.g. {@code BEGIN; SELECT * FROM users
		 * LIMIT 1}, which leaves the session idle in transaction holding its locks. Several statements separated by
		 * {@code ;} are fine. Times out after 30 s rather than hanging on a statement that blocks; use {@link #submit}
		 * for those.
		 */
		public void execute(String sql) throws SQLException {
			synchronized (this) {
				requireIdle();
			}
			try (Statement statement = connection.createStatement()) {
				statement.setQueryTimeout(EXECUTE_TIMEOUT_SECONDS);
				runToEnd(statement, sql);
			}
		}

		/**
		 * Runs SQL on this session's thread, for statements that block on a lock. The future completes when the
		 * statement ends, exceptionally with its {@link SQLException} (e.g. when the backend is cancelled or terminated).
		 * A session runs one statement at a time.
		 */
		public synchronized CompletableFuture<Void> submit(String sql) {
			requireIdle();
			if (worker == null) {
				worker = Executors.newSingleThreadExecutor(task -> {
					Thread thread = new Thread(task, "lockscenario-" + applicationName);
					// a statement stuck on a lock must never keep the test JVM alive
					thread.setDaemon(true);
					return thread;
				});
			}
			CompletableFuture<Void> submitted = new CompletableFuture<>();
			lastSubmission = submitted;
			worker.execute(() -> {
				Throwable failure = null;
				try (Statement statement = connection.createStatement()) {
					runToEnd(statement, sql);
				}
				catch (Throwable e) {
					failure = e;
				}
				// completed after the statement is closed, so that the test can use the session again right away
				if (failure == null) {
					submitted.complete(null);
				}
				else {
					submitted.completeExceptionally(failure);
				}
			});
			return submitted;
		}

		/** pg_stat_activity.state of this backend ({@code active}, {@code idle in transaction}, ...), null once it is gone. */
		public String state() {
			return activityColumn(pid, "state");
		}

		/** pg_stat_activity.wait_event_type of this backend, e.g. {@code Lock}; null when it does not wait. */
		public String waitEventType() {
			return activityColumn(pid, "wait_event_type");
		}

		/** The future of the last {@link #submit}, or null. */
		public synchronized CompletableFuture<Void> lastSubmission() {
			return lastSubmission;
		}

		@Override
		public String toString() {
			return applicationName + " (pid " + pid + ")";
		}

		private void requireIdle() {
			if (lastSubmission != null && !lastSubmission.isDone()) {
				throw new IllegalStateException("session " + applicationName + " still runs a submitted statement");
			}
		}

		/** Called by close() after the backend was terminated. */
		private void release() {
			ExecutorService stopping;
			boolean busy;
			synchronized (this) {
				stopping = worker;
				busy = lastSubmission != null && !lastSubmission.isDone();
			}
			if (busy) {
				// close() would queue behind the running statement inside the driver; abort drops the socket instead
				try {
					connection.abort(Runnable::run);
				}
				catch (SQLException | RuntimeException e) {
					// nothing more to do for a connection that cannot even be aborted
				}
			}
			else {
				closeQuietly(connection);
			}
			if (stopping != null) {
				stopping.shutdownNow();
				try {
					stopping.awaitTermination(WORKER_STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
				}
				catch (InterruptedException e) {
					Thread.currentThread().interrupt();
				}
			}
		}

		private static void runToEnd(Statement statement, String sql) throws SQLException {
			// reads every result, so an error in a later statement of a multi-statement string surfaces here
			boolean isResultSet = statement.execute(sql);
			while (true) {
				if (isResultSet) {
					try (ResultSet rows = statement.getResultSet()) {
						while (rows.next()) {
							// rows are not needed, only the locks their reading takes
						}
					}
				}
				else if (statement.getUpdateCount() == -1) {
					return;
				}
				isResultSet = statement.getMoreResults();
			}
		}
	}
}
