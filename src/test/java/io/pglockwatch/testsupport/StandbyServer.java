package io.pglockwatch.testsupport;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * A streaming hot standby of a private {@link PostgresServer} (one from {@link PostgresServer#startNew(int)}), on its
 * own port, from the same binaries. The standby is itself a {@link PostgresServer} ({@link #server()}), so {@link
 * LockScenario} and everything else that takes a server works on it; it is read-only, so creating databases, roles or
 * fixtures on it fails, and tests create their tables on the primary and call {@link #awaitReplayed()}.
 *
 * <h2>How it is made</h2>
 * The zonky binaries hold only {@code initdb}, {@code pg_ctl} and {@code postgres}, no {@code pg_basebackup}, so the
 * base backup is PostgreSQL's low-level one ("Making a Base Backup Using the Low Level API"), done from Java: a physical
 * replication slot is created on the primary (it keeps the WAL the standby has not received yet), then, on one
 * connection, {@code pg_backup_start(label, true)} (14: {@code pg_start_backup(label, true, false)}), the primary's data
 * folder is copied file by file (without {@code postmaster.pid}, {@code postmaster.opts}, the contents of {@code pg_wal},
 * {@code pg_replslot}, {@code pg_dynshmem}, {@code pg_notify}, {@code pg_serial}, {@code pg_snapshots}, {@code
 * pg_stat_tmp}, {@code pg_subtrans}, temporary files, {@code pg_internal.init} and zonky's {@code epg-lock}), and
 * {@code pg_backup_stop(false)} (14: {@code pg_stop_backup(false, false)}) returns the {@code backup_label} to write.
 * {@code standby.signal}, {@code primary_conninfo}, {@code primary_slot_name} and the standby's settings go to
 * {@code postgresql.auto.conf}; the standby starts through zonky like any embedded server (no initdb, as the folder
 * already holds a {@code postgresql.conf}), so as root it too runs in a user namespace ({@code unshare -U}). The
 * primary needs nothing changed: its {@code wal_level} is {@code replica} and {@code max_wal_senders} 10 (the
 * defaults), and zonky's initdb ({@code -A trust}) lets replication connections from localhost in.
 *
 * <p>Only the embedded backend is supported: the docker backend's data folder lives in a container. Start the primary
 * with {@link PostgresServer#startNewEmbedded(int)}, which is embedded whether Docker answers or not; {@link #start}
 * refuses any other primary with a message saying so.
 *
 * <h2>What a standby shows (observed on PostgreSQL 18.6 and 14.24; {@code StandbyServerTests} asserts it)</h2>
 * The startup process, which replays the WAL, is a row of {@code pg_stat_activity} without a session:
 * <pre>
 *   backend_type 'startup', state NULL, usename NULL, usesysid NULL, datid/datname NULL, application_name '' (empty),
 *   client_addr/client_hostname/client_port NULL, query '' (empty), query_id NULL, query_start NULL, xact_start NULL,
 *   state_change NULL, backend_xid/backend_xmin NULL, leader_pid NULL, backend_start = when the standby started;
 *   between records (waiting for WAL): wait_event_type 'Activity', wait_event 'RecoveryWalStream'
 * </pre>
 * Its {@code pg_locks} rows always include its own virtualxid lock: {@code locktype 'virtualxid', virtualxid '<n>/1',
 * virtualtransaction '<n>/0', mode ExclusiveLock, granted, fastpath}, where {@code <n>} is its proc slot ({@code 1} on
 * 14, a number past max_connections on 18, e.g. {@code 1140} with max_connections 1100).
 *
 * <p><b>Replayed lock held.</b> While a primary transaction holds ACCESS EXCLUSIVE on a table ({@code BEGIN; LOCK TABLE
 * t ...} left open), the startup process holds it on the standby: one more row, {@code locktype 'relation',
 * database/relation = the table's (the primary's oids), mode 'AccessExclusiveLock', granted true, fastpath false,
 * virtualtransaction '<n>/0', waitstart NULL}. It does not wait itself (still Activity/RecoveryWalStream) and its
 * pg_stat_activity row tells neither since when nor for which primary transaction it holds the lock. Standby readers of
 * the table wait: state 'active', wait_event_type 'Lock', wait_event 'relation', a not granted AccessShareLock row with
 * waitstart set, and {@code pg_blocking_pids(reader) = {startup pid}}. When the primary's transaction ends (its commit
 * or abort record replayed) the lock is gone and the readers run.
 *
 * <p><b>Replay waiting for a standby query.</b> With {@code max_standby_streaming_delay = -1}, a standby transaction
 * that read a table keeps its AccessShareLock; when the lock record of the primary's ALTER TABLE (or LOCK TABLE) of it
 * is replayed, the startup process waits without bound: wait_event_type 'Lock', wait_event 'relation' (no
 * RecoveryConflict* event), a not granted {@code AccessExclusiveLock} relation row of the startup pid with waitstart
 * set, the WAL received piling up ({@code pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()}). {@code
 * pg_blocking_pids(startup pid)} is <b>empty</b> (the function does not see the startup process's wait): the blocker
 * is found in pg_locks, the backend with a granted conflicting lock on that relation. New standby readers of the table
 * queue behind the waiting startup process: {@code pg_blocking_pids(reader) = {startup pid}}. Past deadlock_timeout
 * nothing is cancelled (an idle holder is not in a deadlock) and {@code pg_stat_database_conflicts} stays all 0; ending
 * the standby transaction lets replay go on.
 */
public final class StandbyServer implements AutoCloseable {

	public static final String ROLE = "standby";

	private static final String MAINTENANCE_DATABASE = "postgres";
	private static final String APPLICATION_NAME = "pglockwatch_standby";
	private static final Duration REPLAY_WAIT = Duration.ofSeconds(30);
	private static final Duration SLOT_DROP_WAIT = Duration.ofSeconds(15);
	private static final long POLL_MILLIS = 20;
	private static final Logger log = LoggerFactory.getLogger(StandbyServer.class);

	/** Folders whose contents a base backup leaves out; the folders themselves are kept (empty). */
	private static final Set<String> EMPTIED_DIRECTORIES = Set.of("pg_wal", "pg_replslot", "pg_dynshmem", "pg_notify",
			"pg_serial", "pg_snapshots", "pg_stat_tmp", "pg_subtrans");
	/** Files of the data folder's top level that a base backup leaves out. */
	private static final Set<String> SKIPPED_TOP_LEVEL_FILES = Set.of("postmaster.pid", "postmaster.opts", "backup_label",
			"tablespace_map", "standby.signal", "recovery.signal", "epg-lock");

	private final PostgresServer primary;
	private final PostgresServer server;
	private final String slotName;
	private boolean closed;

	private StandbyServer(PostgresServer primary, PostgresServer server, String slotName) {
		this.primary = primary;
		this.server = server;
		this.slotName = slotName;
	}

	/**
	 * The standby's settings unless the test passes others: hot standby on, feedback off, and replay waiting without
	 * bound for standby queries that conflict with it (both delays -1, streamed WAL and WAL read from pg_wal after a
	 * restart).
	 */
	public static Map<String, String> defaultSettings() {
		Map<String, String> settings = new LinkedHashMap<>();
		settings.put("hot_standby", "on");
		settings.put("hot_standby_feedback", "off");
		settings.put("max_standby_streaming_delay", "-1");
		settings.put("max_standby_archive_delay", "-1");
		return settings;
	}

	/** Starts a standby of the primary with {@link #defaultSettings()}. */
	public static StandbyServer start(PostgresServer primary) {
		return start(primary, Map.of());
	}

	/**
	 * Starts a standby of the primary. The settings override {@link #defaultSettings()} and {@link
	 * PostgresServer#serverSettings()} (the standby needs at least the primary's {@code max_connections}, {@code
	 * max_prepared_transactions}, {@code max_locks_per_transaction}, {@code max_wal_senders} and {@code
	 * max_worker_processes}, so leave those). The caller closes the standby before the primary.
	 */
	public static StandbyServer start(PostgresServer primary, Map<String, String> settings) {
		if (primary.isShared()) {
			throw new IllegalArgumentException("a standby needs a private primary (PostgresServer.startNew), not the shared "
					+ primary + ": it takes a base backup and a replication slot of it");
		}
		if (!(primary.backend() instanceof EmbeddedPostgresBackend primaryBackend)) {
			throw new UnsupportedOperationException("StandbyServer supports only the embedded backend; " + primary + " runs on "
					+ primary.backendKind() + ", whose data folder lives in a container. Run with -D"
					+ PostgresServer.BACKEND_PROPERTY + "=embedded (or " + PostgresServer.BACKEND_ENV + "=embedded)");
		}
		if (!primary.isRunning()) {
			throw new IllegalStateException(primary + " is not running");
		}
		Map<String, String> standbySettings = new LinkedHashMap<>(defaultSettings());
		standbySettings.putAll(settings);
		standbySettings.remove("port");
		// the command line beats postgresql.auto.conf, so the standby's own settings must not be on it
		Map<String, String> commandLine = new LinkedHashMap<>(PostgresServer.serverSettings());
		commandLine.keySet().removeAll(standbySettings.keySet());

		long started = System.nanoTime();
		String slotName = "pglockwatch_standby_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
		EmbeddedPostgresBackend backend = new EmbeddedPostgresBackend(primary.majorVersion(), ROLE);
		boolean slotCreated = false;
		try {
			createSlot(primary, slotName);
			slotCreated = true;
			baseBackup(primary, primaryBackend.dataDirectory(), backend.dataDirectory());
			configureStandby(backend.dataDirectory(), primary, slotName, standbySettings);
		}
		catch (IOException | SQLException | RuntimeException e) {
			backend.destroy();
			if (slotCreated) {
				dropSlotQuietly(primary, slotName);
			}
			throw new IllegalStateException("could not take a base backup of " + primary + " for a standby", e);
		}
		PostgresServer server;
		try {
			// removes the standby's data folder when it fails
			server = PostgresServer.startPrepared(primary.majorVersion(), backend, commandLine, ROLE);
		}
		catch (RuntimeException | Error e) {
			dropSlotQuietly(primary, slotName);
			throw e;
		}
		StandbyServer standby = new StandbyServer(primary, server, slotName);
		try {
			standby.awaitReplayed();
		}
		catch (RuntimeException | Error e) {
			standby.close();
			throw e;
		}
		log.info("standby of {} up as {} in {} ms", primary, server, (System.nanoTime() - started) / 1_000_000);
		return standby;
	}

	/** The standby as a server: for {@link LockScenario}, for {@link PostgresServer#stop()} and {@link PostgresServer#start()}. */
	public PostgresServer server() {
		return server;
	}

	public PostgresServer primary() {
		return primary;
	}

	public String host() {
		return server.host();
	}

	public int port() {
		return server.port();
	}

	public String superuser() {
		return server.superuser();
	}

	public String password() {
		return server.password();
	}

	public int majorVersion() {
		return server.majorVersion();
	}

	/** The primary's physical replication slot that the standby streams from. */
	public String slotName() {
		return slotName;
	}

	public String jdbcUrl(String database) {
		return server.jdbcUrl(database);
	}

	/** A new superuser connection to the standby in autocommit mode; the caller closes it. */
	public Connection connect(String database, String applicationName) throws SQLException {
		return server.connect(database, applicationName);
	}

	/** A new connection to the standby as the given role (created on the primary); the caller closes it. */
	public Connection connect(String database, String user, String password, String applicationName) throws SQLException {
		return server.connect(database, user, password, applicationName);
	}

	/** The pid of the standby's startup process, which replays the WAL and holds the locks it replays. */
	public int startupPid() {
		try (Connection connection = connect(MAINTENANCE_DATABASE, "pglockwatch-standby-fixture");
				Statement statement = connection.createStatement();
				ResultSet rows = statement.executeQuery("SELECT pid FROM pg_stat_activity WHERE backend_type = 'startup'")) {
			if (!rows.next()) {
				throw new IllegalStateException(this + " has no startup process in pg_stat_activity (promoted?)");
			}
			return rows.getInt(1);
		}
		catch (SQLException e) {
			throw new IllegalStateException("could not read pg_stat_activity on " + this, e);
		}
	}

	/** {@link #awaitReplayed(Duration)} with 30 s. */
	public void awaitReplayed() {
		awaitReplayed(REPLAY_WAIT);
	}

	/**
	 * Waits until the standby has replayed everything the primary had written when this was called: the primary's
	 * {@code pg_current_wal_insert_lsn()} against the standby's {@code pg_last_wal_replay_lsn()}.
	 *
	 * <p>The insert position rather than {@code pg_current_wal_lsn()} (the write position), and a flush first: the test
	 * servers run with {@code synchronous_commit = off}, and a record that no commit flushes (the ACCESS EXCLUSIVE lock
	 * record of a transaction left open, say) may sit in the primary's WAL buffers, neither written nor streamed, for
	 * seconds. So this commits a transaction with {@code synchronous_commit = on} on the primary after reading the
	 * position, which flushes the WAL up to it. Fails after the timeout, e.g. when replay waits for a standby query.
	 */
	public void awaitReplayed(Duration timeout) {
		String target;
		try (Connection connection = primary.connect(MAINTENANCE_DATABASE, "pglockwatch-standby-fixture");
				Statement statement = connection.createStatement()) {
			target = single(statement, "SELECT pg_current_wal_insert_lsn()::text");
			statement.execute("SET synchronous_commit = on");
			// a transaction with an xid writes a commit record; committing it flushes all WAL before it
			single(statement, "SELECT pg_current_xact_id()::text");
		}
		catch (SQLException e) {
			throw new IllegalStateException("could not read the WAL position of " + primary, e);
		}
		long deadline = System.nanoTime() + timeout.toNanos();
		try (Connection connection = connect(MAINTENANCE_DATABASE, "pglockwatch-standby-fixture");
				PreparedStatement statement = connection.prepareStatement(
						"SELECT coalesce(pg_last_wal_replay_lsn() >= ?::pg_lsn, false)")) {
			statement.setString(1, target);
			while (true) {
				try (ResultSet rows = statement.executeQuery()) {
					rows.next();
					if (rows.getBoolean(1)) {
						return;
					}
				}
				if (System.nanoTime() > deadline) {
					throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + this
							+ " to replay the primary's WAL up to " + target + ": " + replayState(connection));
				}
				Thread.sleep(POLL_MILLIS);
			}
		}
		catch (SQLException e) {
			throw new IllegalStateException("could not read the replay position of " + this, e);
		}
		catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("interrupted while waiting for " + this + " to replay", e);
		}
	}

	/** Stops the standby, deletes its data and drops its slot on the primary if the primary still runs. */
	@Override
	public void close() {
		synchronized (this) {
			if (closed) {
				return;
			}
			closed = true;
		}
		try {
			server.close();
		}
		finally {
			if (primary.isRunning()) {
				dropSlotQuietly(primary, slotName);
			}
		}
	}

	@Override
	public String toString() {
		return server + " of primary port " + primary.port();
	}

	private String replayState(Connection connection) {
		try (Statement statement = connection.createStatement();
				ResultSet rows = statement.executeQuery("""
						SELECT 'receive ' || coalesce(pg_last_wal_receive_lsn()::text, 'none')
							|| ', replay ' || coalesce(pg_last_wal_replay_lsn()::text, 'none')
							|| ', replay paused ' || pg_is_wal_replay_paused()
							|| ', startup process ' || coalesce((SELECT pid || ' waits on ' || coalesce(wait_event_type, '-') || '/'
								|| coalesce(wait_event, '-') FROM pg_stat_activity WHERE backend_type = 'startup'), 'missing')
							|| ', wal receiver ' || coalesce((SELECT status FROM pg_stat_wal_receiver), 'not running')""")) {
			rows.next();
			return rows.getString(1);
		}
		catch (SQLException e) {
			return "(could not read the replay state: " + e.getMessage() + ")";
		}
	}

	private static void createSlot(PostgresServer primary, String slotName) throws SQLException {
		try (Connection connection = primary.connect(MAINTENANCE_DATABASE, "pglockwatch-standby-fixture");
				PreparedStatement statement = connection.prepareStatement("SELECT pg_create_physical_replication_slot(?, true)")) {
			statement.setString(1, slotName);
			statement.execute();
		}
	}

	private static void dropSlotQuietly(PostgresServer primary, String slotName) {
		long deadline = System.nanoTime() + SLOT_DROP_WAIT.toNanos();
		try (Connection connection = primary.connect(MAINTENANCE_DATABASE, "pglockwatch-standby-fixture");
				PreparedStatement statement = connection.prepareStatement(
						"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ?")) {
			statement.setString(1, slotName);
			while (true) {
				try {
					statement.execute();
					return;
				}
				catch (SQLException e) {
					// 55006: the walsender of a standby that just stopped may still hold the slot for a moment
					if (!"55006".equals(e.getSQLState()) || System.nanoTime() > deadline) {
						throw e;
					}
					Thread.sleep(POLL_MILLIS);
				}
			}
		}
		catch (SQLException | RuntimeException e) {
			log.warn("could not drop replication slot {} on {}: {}", slotName, primary, e.toString());
		}
		catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		}
	}

	/**
	 * PostgreSQL's low-level base backup: start it, copy the data folder, stop it, write its backup_label. The backup
	 * runs on one connection, which must stay open until it stops; closing it earlier aborts the backup.
	 */
	private static void baseBackup(PostgresServer primary, Path source, Path target) throws SQLException, IOException {
		boolean before15 = primary.majorVersion() < 15;
		try (Connection connection = primary.connect(MAINTENANCE_DATABASE, "pglockwatch-standby-basebackup");
				Statement statement = connection.createStatement()) {
			// fast: an immediate checkpoint instead of a spread one
			statement.execute(before15 ? "SELECT pg_start_backup('pglockwatch standby', true, false)"
					: "SELECT pg_backup_start('pglockwatch standby', true)");
			copyDataDirectory(source, target);
			// wait_for_archive false: archiving is off, the standby streams its WAL from the slot
			try (ResultSet rows = statement.executeQuery(before15
					? "SELECT labelfile, spcmapfile FROM pg_stop_backup(false, false)"
					: "SELECT labelfile, spcmapfile FROM pg_backup_stop(false)")) {
				rows.next();
				Files.writeString(target.resolve("backup_label"), rows.getString(1), StandardCharsets.UTF_8);
				String tablespaceMap = rows.getString(2);
				if (tablespaceMap != null && !tablespaceMap.isEmpty()) {
					Files.writeString(target.resolve("tablespace_map"), tablespaceMap, StandardCharsets.UTF_8);
				}
			}
		}
	}

	private static void copyDataDirectory(Path source, Path target) throws IOException {
		Files.walkFileTree(source, new SimpleFileVisitor<>() {

			@Override
			public FileVisitResult preVisitDirectory(Path directory, BasicFileAttributes attributes) throws IOException {
				Path relative = source.relativize(directory);
				Path copy = target.resolve(relative.toString());
				if (relative.getFileName() != null && relative.getFileName().toString().startsWith("pgsql_tmp")) {
					return FileVisitResult.SKIP_SUBTREE;
				}
				Files.createDirectories(copy);
				// PostgreSQL refuses a data folder that others may read; pg_wal and the rest are 0700 too
				Files.setPosixFilePermissions(copy, permissionsOf(directory, "rwx------"));
				if (relative.getNameCount() == 1 && EMPTIED_DIRECTORIES.contains(relative.toString())) {
					if (relative.toString().equals("pg_wal")) {
						Files.createDirectories(copy.resolve("archive_status"));
					}
					return FileVisitResult.SKIP_SUBTREE;
				}
				return FileVisitResult.CONTINUE;
			}

			@Override
			public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
				Path relative = source.relativize(file);
				String name = relative.getFileName().toString();
				if ((relative.getNameCount() == 1 && SKIPPED_TOP_LEVEL_FILES.contains(name)) || name.equals("pg_internal.init")
						|| name.startsWith("pgsql_tmp")) {
					return FileVisitResult.CONTINUE;
				}
				try {
					Files.copy(file, target.resolve(relative.toString()), StandardCopyOption.COPY_ATTRIBUTES,
							LinkOption.NOFOLLOW_LINKS);
				}
				catch (NoSuchFileException e) {
					// dropped while the backup ran (a table, a temporary file); the WAL replay knows
				}
				return FileVisitResult.CONTINUE;
			}

			@Override
			public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
				if (e instanceof NoSuchFileException) {
					return FileVisitResult.CONTINUE;
				}
				throw e;
			}
		});
	}

	private static Set<PosixFilePermission> permissionsOf(Path directory, String fallback) {
		try {
			return Files.getPosixFilePermissions(directory);
		}
		catch (IOException | UncheckedIOException | UnsupportedOperationException e) {
			return PosixFilePermissions.fromString(fallback);
		}
	}

	private static void configureStandby(Path dataDirectory, PostgresServer primary, String slotName,
			Map<String, String> settings) throws IOException {
		Files.write(dataDirectory.resolve("standby.signal"), new byte[0]);
		StringBuilder conf = new StringBuilder("\n# standby of ").append(primary).append(", written by StandbyServer\n");
		String conninfo = "host=" + conninfoValue(primary.host()) + " port=" + primary.port() + " user="
				+ conninfoValue(primary.superuser()) + " password=" + conninfoValue(primary.password()) + " application_name="
				+ APPLICATION_NAME;
		appendSetting(conf, "primary_conninfo", conninfo);
		appendSetting(conf, "primary_slot_name", slotName);
		settings.forEach((name, value) -> appendSetting(conf, name, value));
		Files.writeString(dataDirectory.resolve("postgresql.auto.conf"), conf, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
				StandardOpenOption.APPEND);
	}

	private static void appendSetting(StringBuilder conf, String name, String value) {
		if (!name.matches("[A-Za-z_][A-Za-z0-9_.]*")) {
			throw new IllegalArgumentException("not a PostgreSQL setting name: '" + name + "'");
		}
		// postgresql.conf strings take backslash escapes as well as doubled quotes
		conf.append(name).append(" = '").append(value.replace("\\", "\\\\").replace("'", "''")).append("'\n");
	}

	/** A libpq connection-string value, quoted. */
	private static String conninfoValue(String value) {
		return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
	}

	private static String single(Statement statement, String sql) throws SQLException {
		try (ResultSet rows = statement.executeQuery(sql)) {
			rows.next();
			return rows.getString(1);
		}
	}
}
