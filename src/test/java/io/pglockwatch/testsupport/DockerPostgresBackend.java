package io.pglockwatch.testsupport;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * PostgreSQL in a Testcontainers container from the official image {@code postgres:<major>}. Only this class touches
 * Testcontainers, so an embedded run never loads it.
 */
final class DockerPostgresBackend implements PostgresBackend {

	private static final int CONTAINER_PORT = 5432;
	private static final String PASSWORD = "postgres";
	private static final Duration RESTART_WAIT = Duration.ofSeconds(60);
	// the image's 64 MB /dev/shm is too small for parallel query workers on a server with 1100 connection slots
	private static final long SHARED_MEMORY_BYTES = 512L * 1024 * 1024;

	private final int majorVersion;
	private final boolean fixedPort;
	private PostgreSQLContainer container;
	private int port;
	private boolean running;

	/**
	 * @param fixedPort bind a fixed host port, so that a stopped container comes back on the same port; shared servers
	 *                  use a random mapping, which cannot collide with anything
	 */
	DockerPostgresBackend(int majorVersion, boolean fixedPort) {
		this.majorVersion = majorVersion;
		this.fixedPort = fixedPort;
	}

	/**
	 * Whether a Docker engine answers. Asks Testcontainers only when something points at an engine, because its probe
	 * logs an ERROR with a stack trace on machines that have none.
	 */
	static boolean isDockerAvailable() {
		if (!dockerIsConfigured()) {
			return false;
		}
		try {
			return DockerClientFactory.instance().isDockerAvailable();
		}
		catch (RuntimeException | LinkageError e) {
			return false;
		}
	}

	/** Where an engine was looked for, for the message when a forced docker run finds none. */
	static String dockerLookupDescription() {
		return "DOCKER_HOST, TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE, ~/.testcontainers.properties and the sockets "
				+ String.join(", ", dockerSockets().stream().map(Path::toString).toList());
	}

	private static boolean dockerIsConfigured() {
		if (!isBlank(System.getenv("DOCKER_HOST")) || !isBlank(System.getenv("TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE"))) {
			return true;
		}
		if (Files.isRegularFile(Paths.get(System.getProperty("user.home"), ".testcontainers.properties"))) {
			return true;
		}
		return dockerSockets().stream().anyMatch(Files::exists);
	}

	private static List<Path> dockerSockets() {
		String home = System.getProperty("user.home");
		List<Path> sockets = new ArrayList<>(List.of(
				Paths.get("/var/run/docker.sock"),
				Paths.get("/run/podman/podman.sock"),
				Paths.get(home, ".docker", "run", "docker.sock"),
				Paths.get(home, ".docker", "desktop", "docker.sock"),
				Paths.get(home, ".colima", "default", "docker.sock"),
				Paths.get(home, ".rd", "docker.sock")));
		String runtimeDir = System.getenv("XDG_RUNTIME_DIR");
		if (!isBlank(runtimeDir)) {
			sockets.add(Paths.get(runtimeDir, "docker.sock"));
			sockets.add(Paths.get(runtimeDir, "podman", "podman.sock"));
		}
		return sockets;
	}

	@Override
	public String kind() {
		return "docker";
	}

	@Override
	public synchronized String host() {
		return container == null ? "localhost" : container.getHost();
	}

	@Override
	public synchronized int port() {
		return port;
	}

	@Override
	public String password() {
		return PASSWORD;
	}

	@Override
	public synchronized void start(Map<String, String> settings) throws Exception {
		if (running) {
			throw new IllegalStateException("PostgreSQL " + majorVersion + " is already running on port " + port);
		}
		if (container == null) {
			container = createContainer(settings);
			container.start();
			port = container.getMappedPort(CONTAINER_PORT);
		}
		else {
			// the same container keeps its data volume and, with the fixed binding, its host port
			container.getDockerClient().startContainerCmd(container.getContainerId()).exec();
			awaitConnectable();
		}
		running = true;
	}

	@Override
	public synchronized void stop() {
		if (!running) {
			return;
		}
		// stopContainerCmd, not container.stop(): Testcontainers' stop removes the container and its data
		container.getDockerClient().stopContainerCmd(container.getContainerId()).withTimeout(10).exec();
		running = false;
	}

	@Override
	public synchronized void destroy() {
		if (container != null) {
			container.stop();
		}
		running = false;
	}

	@Override
	public synchronized String logTail() {
		if (container == null) {
			return "";
		}
		try {
			String logs = container.getLogs();
			return "\n--- last container log ---\n" + logs.substring(Math.max(0, logs.length() - 4000));
		}
		catch (RuntimeException e) {
			return "";
		}
	}

	private PostgreSQLContainer createContainer(Map<String, String> settings) throws IOException {
		List<String> command = new ArrayList<>(List.of("postgres"));
		settings.forEach((key, value) -> {
			command.add("-c");
			command.add(key + "=" + value);
		});
		PostgreSQLContainer created = new PostgreSQLContainer(DockerImageName.parse("postgres:" + majorVersion))
				.withDatabaseName("postgres")
				.withUsername(PostgresServer.SUPERUSER)
				.withPassword(PASSWORD)
				.withSharedMemorySize(SHARED_MEMORY_BYTES)
				.withCommand(command.toArray(String[]::new));
		if (fixedPort) {
			port = freePort();
			created.setPortBindings(List.of(port + ":" + CONTAINER_PORT));
		}
		return created;
	}

	private void awaitConnectable() throws InterruptedException {
		String url = "jdbc:postgresql://" + container.getHost() + ":" + port + "/postgres";
		Properties properties = new Properties();
		properties.setProperty("user", PostgresServer.SUPERUSER);
		properties.setProperty("password", PASSWORD);
		properties.setProperty("connectTimeout", "2");
		long deadline = System.nanoTime() + RESTART_WAIT.toNanos();
		SQLException last = null;
		while (System.nanoTime() < deadline) {
			try (Connection ignored = DriverManager.getConnection(url, properties)) {
				return;
			}
			catch (SQLException e) {
				last = e;
				Thread.sleep(200);
			}
		}
		throw new IllegalStateException("PostgreSQL " + majorVersion + " container did not accept connections on port " + port
				+ " within " + RESTART_WAIT.toSeconds() + " s after a restart" + logTail(), last);
	}

	private static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0)) {
			return socket.getLocalPort();
		}
	}

	private static boolean isBlank(String value) {
		return value == null || value.isBlank();
	}
}
