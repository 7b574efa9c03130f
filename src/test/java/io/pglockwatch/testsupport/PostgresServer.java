package io.pglockwatch.testsupport;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * A real PostgreSQL server for tests, run by Testcontainers ({@code postgres:<major>}) when a Docker engine answers and
 * from the zonky embedded binaries otherwise.
 *
 * <p>{@link #shared(int)} hands out one server per major version per JVM, which tests must not stop; {@link
 * #startNew(int)} starts a private one that the test stops, restarts and closes. Every server has the database
 * {@value #DEFAULT_DATABASE} with the fixtures of {@link #installFixtures(String)}. {@link StandbyServer} makes a
 * streaming hot standby of a private one.
 *
 * <p>Choosing the backend: system property {@value #BACKEND_PROPERTY} or environment variable {@value #BACKEND_ENV}
 * set to {@code docker} or {@code embedded} forces one. Choosing the major of {@link #shared()}: system property
 * {@value #VERSION_PROPERTY} or environment variable {@value #VERSION_ENV}, default {@value #DEFAULT_MAJOR}.
 */
public final class PostgresServer implements AutoCloseable {

	public static final String BACKEND_PROPERTY = "pglockwatch.test.postgres";
	public static final String BACKEND_ENV = "PGLOCKWATCH_TEST_POSTGRES";
	public static final String VERSION_PROPERTY = "pglockwatch.test.pg-version";
	public static final String VERSION_ENV = "PGLOCKWATCH_TEST_PG_VERSION";
	public static final int DEFAULT_MAJOR = 18;
	public static final String DEFAULT_DATABASE = "lab";
	public static final String SUPERUSER = "postgres";

	/** The maintenance database every server has; used for cluster-wide statements such as CREATE DATABASE. */
	private static final String MAINTENANCE_DATABASE = "postgres";
	private static final String FIXTURE_MARKER = "pglockwatch fixtures v1";
	private static final int CONNECT_TIMEOUT_SECONDS = 10;
	private static final Logger log = LoggerFactory.getLogger(PostgresServer.class);

	/** The shared servers, by major version. Guarded by itself. */
	private static final Map<Integer, PostgresServer> SHARED = new HashMap<>();

	private final int majorVersion;
	private final boolean shared;
	private final PostgresBackend backend;
	/** The command-line server settings of every start: {@link #serverSettings()}, or what a standby passes. */
	private final Map<String, String> settings;
	/** {@code standby} for a {@link StandbyServer}'s server, empty otherwise; for messages. */
	private final String role;
	private final Thread shutdownHook;
	private boolean running;
	private boolean closed;

	private PostgresServer(int majorVersion, boolean shared, PostgresBackend backend, Map<String, String> settings,
			String role) {
		this.majorVersion = majorVersion;
		this.shared = shared;
		this.backend = backend;
		this.settings = Collections.unmodifiableMap(new LinkedHashMap<>(settings));
		this.role = role;
		this.shutdownHook = new Thread(this::destroy, "pglockwatch-postgres-" + majorVersion
				+ (role.isEmpty() ? "" : "-" + role) + "-shutdown");
	}

	/** The shared server of the major named by {@value #VERSION_PROPERTY} / {@value #VERSION_ENV}, default 18. */
	public static PostgresServer shared() {
		return shared(configuredMajor());
	}

	/**
	 * The JVM-wide server of one major version (18 from the classpath binaries, 14 from {@code target/pg-binaries}),
	 * started on first use and stopped when the JVM exits. Tests share it, so they must not stop it; {@link #close()}
	 * does nothing on it.
	 */
	public static PostgresServer shared(int majorVersion) {
		synchronized (SHARED) {
			PostgresServer server = SHARED.get(majorVersion);
			if (server == null) {
				// not cached on failure: a later test gets the same clear error instead of a stale one
				server = create(majorVersion, true);
				SHARED.put(majorVersion, server);
			}
			return server;
		}
	}

	/**
	 * Stops the shared servers now. For command-line benchmarks run by {@code exec:java}: it closes their class loader
	 * before the JVM's shutdown hooks run, so a hook could no longer stop the server and it would be left running.
	 */
	public static void closeShared() {
		synchronized (SHARED) {
			for (PostgresServer server : SHARED.values()) {
				server.destroy();
				server.removeShutdownHook();
			}
			SHARED.clear();
		}
	}

	/** Starts a server that only the calling test uses; it may {@link #stop()} and {@link #start()} it and must close it. */
	public static PostgresServer startNew(int majorVersion) {
		return create(majorVersion, false);
	}

	/**
	 * Like {@link #startNew(int)}, always on the embedded backend, whatever Docker or the backend settings say: for
	 * {@link StandbyServer}, which copies the primary's data folder and so needs it on this machine.
	 */
	public static PostgresServer startNewEmbedded(int majorVersion) {
		return create(majorVersion, false, new EmbeddedPostgresBackend(majorVersion));
	}

	/**
	 * Starts a private server on a backend whose data folder the caller has filled, with these command-line settings
	 * (usually {@link #serverSettings()} or a part of it). Creates no database and no fixtures: {@link StandbyServer}
	 * uses it for a standby, which replays its primary's. On failure the backend's data is removed.
	 */
	static PostgresServer startPrepared(int majorVersion, PostgresBackend backend, Map<String, String> settings,
			String role) {
		PostgresServer server = new PostgresServer(majorVersion, false, backend, settings, role);
		Runtime.getRuntime().addShutdownHook(server.shutdownHook);
		try {
			server.boot();
			return server;
		}
		catch (RuntimeException | Error e) {
			server.destroy();
			server.removeShutdownHook();
			throw e;
		}
	}

	private static PostgresServer create(int majorVersion, boolean shared) {
		return create(majorVersion, shared, chooseBackend(majorVersion, !shared));
	}

	private static PostgresServer create(int majorVersion, boolean shared, PostgresBackend backend) {
		PostgresServer server = new PostgresServer(majorVersion, shared, backend, serverSettings(), "");
		// registered before the first start, so a server that half-started is cleaned up too
		Runtime.getRuntime().addShutdownHook(server.shutdownHook);
		try {
			server.boot();
			server.createDatabase(DEFAULT_DATABASE);
			server.installFixtures(DEFAULT_DATABASE);
			return server;
		}
		catch (RuntimeException | Error e) {
			server.destroy();
			server.removeShutdownHook();
			throw e;
		}
	}

	/** The PostgreSQL server settings of every test server; benchmarks stage 1000 lock waiters, hence the 1100 slots. */
	static Map<String, String> serverSettings() {
		Map<String, String> settings = new LinkedHashMap<>();
		settings.put("max_connections", "1100");
		settings.put("max_prepared_transactions", "20");
		settings.put("shared_buffers", "128MB");
		settings.put("fsync", "off");
		settings.put("synchronous_commit", "off");
		settings.put("full_page_writes", "off");
		settings.put("deadlock_timeout", "1s");
		settings.put("log_min_messages", "warning");
		settings.put("timezone", "UTC");
		// server time per statement for the benchmarks, without EXPLAIN ANALYZE's per-node instrumentation
		settings.put("shared_preload_libraries", "pg_stat_statements");
		settings.put("pg_stat_statements.track_planning", "on");
		return Collections.unmodifiableMap(settings);
	}

	private static int configuredMajor() {
		String value = setting(VERSION_PROPERTY, VERSION_ENV);
		if (value == null) {
			return DEFAULT_MAJOR;
		}
		try {
			return Integer.parseInt(value.trim());
		}
		catch (NumberFormatException e) {
			throw new IllegalArgumentException(VERSION_PROPERTY + " / " + VERSION_ENV + " must be a PostgreSQL major version "
					+ "such as 14 or 18, not '" + value + "'", e);
		}
	}

	private static PostgresBackend chooseBackend(int majorVersion, boolean fixedPort) {
		String forced = setting(BACKEND_PROPERTY, BACKEND_ENV);
		String choice = forced == null ? "" : forced.trim().toLowerCase(Locale.ROOT);
		switch (choice) {
			case "docker":
				if (!DockerPostgresBackend.isDockerAvailable()) {
					throw new IllegalStateException(BACKEND_PROPERTY + "=docker, but no Docker engine answered (looked at "
							+ DockerPostgresBackend.dockerLookupDescription() + "). Start a Docker engine (or point DOCKER_HOST "
							+ "at one), or run with -D" + BACKEND_PROPERTY + "=embedded / " + BACKEND_ENV + "=embedded, which "
							+ "needs no Docker.");
				}
				return new DockerPostgresBackend(majorVersion, fixedPort);
			case "embedded":
				return new EmbeddedPostgresBackend(majorVersion);
			case "":
				return DockerPostgresBackend.isDockerAvailable()
						? new DockerPostgresBackend(majorVersion, fixedPort)
						: new EmbeddedPostgresBackend(majorVersion);
			default:
				throw new IllegalArgumentException(BACKEND_PROPERTY + " / " + BACKEND_ENV + " must be 'docker' or 'embedded', not '"
						+ forced + "'");
		}
	}

	private static String setting(String property, String env) {
		String value = System.getProperty(property);
		if (value == null || value.isBlank()) {
			value = System.getenv(env);
		}
		return value == null || value.isBlank() ? null : value;
	}

	public String host() {
		return backend.host();
	}

	public int port() {
		return backend.port();
	}

	public String superuser() {
		return SUPERUSER;
	}

	public String password() {
		return backend.password();
	}

	public int majorVersion() {
		return majorVersion;
	}

	/** {@code docker} or {@code embedded}. */
	public String backendKind() {
		return backend.kind();
	}

	public boolean isShared() {
		return shared;
	}

	/** How this server runs; {@link StandbyServer} reads the primary's data folder through it. */
	PostgresBackend backend() {
		return backend;
	}

	/** A URL without credentials; connect as {@link #superuser()} / {@link #password()} or a role from {@link #createRole}. */
	public String jdbcUrl(String database) {
		return "jdbc:postgresql://" + host() + ":" + port() + "/" + database;
	}

	/** A new superuser connection in autocommit mode; the caller closes it. */
	public Connection connect(String database, String applicationName) throws SQLException {
		return connect(database, SUPERUSER, password(), applicationName);
	}

	/** A new connection as the given role in autocommit mode; the caller closes it. */
	public Connection connect(String database, String user, String password, String applicationName) throws SQLException {
		Properties properties = new Properties();
		properties.setProperty("user", user);
		properties.setProperty("password", password);
		properties.setProperty("ApplicationName", applicationName);
		properties.setProperty("connectTimeout", Integer.toString(CONNECT_TIMEOUT_SECONDS));
		return DriverManager.getConnection(jdbcUrl(database), properties);
	}

	/** Creates the database unless it exists. */
	public synchronized void createDatabase(String name) {
		try (Connection connection = connect(MAINTENANCE_DATABASE, "pglockwatch-fixture-setup")) {
			if (exists(connection, "SELECT 1 FROM pg_database WHERE datname = ?", name)) {
				return;
			}
			try (Statement statement = connection.createStatement()) {
				statement.execute("CREATE DATABASE " + quoteIdentifier(name));
			}
		}
		catch (SQLException e) {
			// another JVM's tests may create the same database against a docker server reached by several forks
			if (!"42P04".equals(e.getSQLState())) {
				throw new IllegalStateException("could not create database " + name + " on " + this, e);
			}
		}
	}

	/**
	 * Lets a database take connections, or stops it taking any and ends the ones it has: to the service whose store
	 * it is, a store that went down.
	 */
	public synchronized void allowConnections(String database, boolean allow) {
		try (Connection connection = connect(MAINTENANCE_DATABASE, "pglockwatch-fixture-setup");
				Statement statement = connection.createStatement()) {
			statement.execute("ALTER DATABASE " + quoteIdentifier(database) + " ALLOW_CONNECTIONS " + allow);
			if (!allow) {
				statement.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
						+ "'" + database.replace("'", "''") + "'");
			}
		}
		catch (SQLException e) {
			throw new IllegalStateException("could not " + (allow ? "allow" : "refuse") + " connections to database "
					+ database + " on " + this, e);
		}
	}

	/**
	 * Creates a login role unless it exists, sets its password, and grants it the given roles (e.g. {@code pg_monitor},
	 * {@code pg_signal_backend}). Roles are cluster-wide, so tests sharing a server share them too.
	 */
	public synchronized void createRole(String name, String password, String... grants) {
		try (Connection connection = connect(MAINTENANCE_DATABASE, "pglockwatch-fixture-setup");
				Statement statement = connection.createStatement()) {
			String role = quoteIdentifier(name);
			if (!exists(connection, "SELECT 1 FROM pg_roles WHERE rolname = ?", name)) {
				try {
					statement.execute("CREATE ROLE " + role + " LOGIN");
				}
				catch (SQLException e) {
					if (!"42710".equals(e.getSQLState())) {
						throw e;
					}
				}
			}
			// also on an existing role, so the password is the one this test passes
			statement.execute("ALTER ROLE " + role + " LOGIN PASSWORD " + quoteLiteral(password));
			for (String grant : grants) {
				statement.execute("GRANT " + quoteIdentifier(grant) + " TO " + role);
			}
		}
		catch (SQLException e) {
			throw new IllegalStateException("could not create role " + name + " on " + this, e);
		}
	}

	/**
	 * Creates the lock-lab tables in a database: {@code users} and {@code orders} with 10000 rows each, {@code accounts}
	 * with ids 1..3 and {@code idle_t} with one row, then VACUUM ANALYZE. Does nothing on a database that has them.
	 */
	public synchronized void installFixtures(String database) {
		try (Connection connection = connect(database, "pglockwatch-fixture-setup");
				Statement statement = connection.createStatement()) {
			// checked through the catalogs only: a scenario may hold or queue for locks on these tables right now
			if (fixturesInstalled(connection, database)) {
				return;
			}
			connection.setAutoCommit(false);
			statement.execute("""
					CREATE TABLE IF NOT EXISTS users (
						id int PRIMARY KEY,
						name text,
						created_at timestamptz DEFAULT now())""");
			statement.execute("""
					CREATE TABLE IF NOT EXISTS orders (
						id serial PRIMARY KEY,
						user_id int,
						amount numeric,
						status text)""");
			statement.execute("CREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, balance numeric)");
			statement.execute("CREATE TABLE IF NOT EXISTS idle_t (id int PRIMARY KEY, v text)");
			statement.execute("""
					INSERT INTO users (id, name)
					SELECT i, 'user_' || i FROM generate_series(1, 10000) AS i
					ON CONFLICT (id) DO NOTHING""");
			// explicit ids keep the insert idempotent; the sequence is moved past them for later inserts
			statement.execute("""
					INSERT INTO orders (id, user_id, amount, status)
					SELECT i, 1 + i % 1000, round((i % 500) * 1.25, 2),
						(ARRAY['new', 'paid', 'shipped', 'cancelled'])[1 + i % 4]
					FROM generate_series(1, 10000) AS i
					ON CONFLICT (id) DO NOTHING""");
			statement.execute("SELECT setval(pg_get_serial_sequence('orders', 'id'), greatest(10000, (SELECT max(id) FROM orders)))");
			statement.execute("INSERT INTO accounts (id, balance) VALUES (1, 1000), (2, 1000), (3, 1000) ON CONFLICT (id) DO NOTHING");
			statement.execute("INSERT INTO idle_t (id, v) VALUES (1, 'idle') ON CONFLICT (id) DO NOTHING");
			statement.execute("COMMENT ON DATABASE " + quoteIdentifier(database) + " IS " + quoteLiteral(FIXTURE_MARKER));
			connection.commit();
			connection.setAutoCommit(true);
			// VACUUM rather than plain ANALYZE: it also resets the insert counters, so autovacuum does not wake up later
			// and show up in a test's pg_blocking_pids
			statement.execute("VACUUM (ANALYZE) users, orders, accounts, idle_t");
		}
		catch (SQLException e) {
			throw new IllegalStateException("could not install fixtures in " + database + " on " + this, e);
		}
	}

	private static boolean fixturesInstalled(Connection connection, String database) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement("""
				SELECT shobj_description(d.oid, 'pg_database') = ?
					AND to_regclass('public.users') IS NOT NULL AND to_regclass('public.orders') IS NOT NULL
					AND to_regclass('public.accounts') IS NOT NULL AND to_regclass('public.idle_t') IS NOT NULL
				FROM pg_database d WHERE d.datname = ?""")) {
			statement.setString(1, FIXTURE_MARKER);
			statement.setString(2, database);
			try (ResultSet rows = statement.executeQuery()) {
				return rows.next() && rows.getBoolean(1);
			}
		}
	}

	/** Stops a server from {@link #startNew(int)}; its data and port are kept for {@link #start()}. */
	public synchronized void stop() {
		requireOwned("stop");
		try {
			backend.stop();
			running = false;
		}
		catch (Exception e) {
			throw new IllegalStateException("could not stop " + this + backend.logTail(), e);
		}
	}

	/** Starts a stopped server from {@link #startNew(int)} on the same port, so earlier JDBC URLs stay valid. */
	public synchronized void start() {
		requireOwned("start");
		boot();
	}

	private synchronized void boot() {
		if (closed) {
			throw new IllegalStateException(this + " is closed");
		}
		if (running) {
			throw new IllegalStateException(this + " is already running");
		}
		long started = System.nanoTime();
		try {
			backend.start(settings);
		}
		catch (RuntimeException e) {
			throw e;
		}
		catch (Exception e) {
			throw new IllegalStateException("could not start " + this + backend.logTail(), e);
		}
		running = true;
		log.info("PostgreSQL {} ({}{}) up on port {} in {} ms", majorVersion, backend.kind(),
				role.isEmpty() ? "" : ", " + role, port(), (System.nanoTime() - started) / 1_000_000);
		verifyMajorVersion();
	}

	/** Whether the server was started, not stopped since, and accepts TCP connections. */
	public synchronized boolean isRunning() {
		if (!running) {
			return false;
		}
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress(host(), port()), 1000);
			return true;
		}
		catch (IOException e) {
			return false;
		}
	}

	/** Stops a server from {@link #startNew(int)} and deletes its data; does nothing on a shared server. */
	@Override
	public void close() {
		if (shared) {
			return;
		}
		destroy();
		removeShutdownHook();
	}

	private synchronized void destroy() {
		if (closed) {
			return;
		}
		closed = true;
		running = false;
		backend.destroy();
	}

	private void removeShutdownHook() {
		try {
			Runtime.getRuntime().removeShutdownHook(shutdownHook);
		}
		catch (IllegalStateException e) {
			// the JVM is already shutting down and runs the hook anyway
		}
	}

	private void requireOwned(String operation) {
		if (shared) {
			throw new UnsupportedOperationException("cannot " + operation + " the shared PostgreSQL " + majorVersion
					+ " server, other tests use it; start a private one with PostgresServer.startNew(" + majorVersion + ")");
		}
	}

	private void verifyMajorVersion() {
		try (Connection connection = connect(MAINTENANCE_DATABASE, "pglockwatch-fixture-setup");
				Statement statement = connection.createStatement();
				ResultSet rows = statement.executeQuery("SHOW server_version_num")) {
			rows.next();
			int actual = Integer.parseInt(rows.getString(1)) / 10000;
			if (actual != majorVersion) {
				throw new IllegalStateException("asked for PostgreSQL " + majorVersion + " but the " + backend.kind()
						+ " binaries are PostgreSQL " + actual + (backend.kind().equals("embedded")
								? "; EmbeddedPostgresBackend.CLASSPATH_MAJOR must match the pom's postgres-binaries.version" : ""));
			}
		}
		catch (SQLException e) {
			throw new IllegalStateException("could not query " + this, e);
		}
	}

	private static boolean exists(Connection connection, String sql, String parameter) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(sql)) {
			statement.setString(1, parameter);
			try (ResultSet rows = statement.executeQuery()) {
				return rows.next();
			}
		}
	}

	static String quoteIdentifier(String identifier) {
		return '"' + identifier.replace("\"", "\"\"") + '"';
	}

	static String quoteLiteral(String literal) {
		// standard_conforming_strings is on (the default since 9.1), so only quotes need doubling
		return "'" + literal.replace("'", "''") + "'";
	}

	@Override
	public String toString() {
		return "PostgreSQL " + majorVersion + " (" + backend.kind() + (shared ? ", shared" : "")
				+ (role.isEmpty() ? "" : ", " + role) + ", port " + port() + ")";
	}
}
