package io.pglockwatch.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.pglockwatch.PgLockwatchApplication;

import static org.awaitility.Awaitility.await;

/**
 * pg-lockwatch run as a process of its own, from the test classpath: what a replica is in production, so that it can
 * be stopped hard ({@link #kill()}: SIGKILL, no shutdown hook, no lease released), which a context in the test JVM
 * cannot be. The web server listens on a free port, without login; its output goes to {@code target/replicas/}.
 */
public final class ServiceProcess implements AutoCloseable {

	private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

	private final String name;

	private final Process process;

	private final int port;

	private final Path log;

	private ServiceProcess(String name, Process process, int port, Path log) {
		this.name = name;
		this.process = process;
		this.port = port;
		this.log = log;
	}

	/** The JVM options of a replica in the tests: a small heap, and C1 only, which starts faster. */
	public static final List<String> TEST_JVM_OPTIONS = List.of("-Xmx384m", "-XX:TieredStopAtLevel=1");

	/**
	 * Starts a replica named {@code name} (its {@code instance-name}) with the properties as command-line arguments,
	 * and returns once its health endpoint answers.
	 */
	public static ServiceProcess start(String name, Map<String, String> properties) {
		return start(name, properties, TEST_JVM_OPTIONS);
	}

	/**
	 * As {@link #start(String, Map)}, with these JVM options instead of {@link #TEST_JVM_OPTIONS}: a benchmark that
	 * measures the service's own code runs it with both JIT tiers, as in production, and may add a flight recording.
	 */
	public static ServiceProcess start(String name, Map<String, String> properties, List<String> jvmOptions) {
		int port = freePort();
		Map<String, String> all = new LinkedHashMap<>(properties);
		all.put("pglockwatch.cluster.instance-name", name);
		all.put("server.port", Integer.toString(port));
		all.put("pglockwatch.security.login-required", "false");
		List<String> command = new ArrayList<>();
		command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
		command.addAll(jvmOptions);
		command.add("-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"));
		command.add("-cp");
		command.add(System.getProperty("java.class.path"));
		command.add(PgLockwatchApplication.class.getName());
		all.forEach((key, value) -> command.add("--" + key + "=" + value));
		try {
			Path dir = Files.createDirectories(Path.of("target", "replicas"));
			Path log = dir.resolve(name + "-" + System.currentTimeMillis() + ".log");
			Process process = new ProcessBuilder(command).redirectErrorStream(true)
				.redirectOutput(log.toFile())
				.start();
			ServiceProcess service = new ServiceProcess(name, process, port, log);
			service.awaitUp(Duration.ofSeconds(90));
			return service;
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	public String name() {
		return this.name;
	}

	/** The process id, e.g. for {@code jcmd}. */
	public long pid() {
		return this.process.pid();
	}

	/** GET of a path; the status and body, or status -1 when the process does not answer. */
	public Answer get(String path) {
		try {
			HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + path))
				.timeout(Duration.ofSeconds(5))
				.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
			return new Answer(response.statusCode(), response.body());
		}
		catch (IOException ex) {
			return new Answer(-1, ex.toString());
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return new Answer(-1, ex.toString());
		}
	}

	/** What the process printed so far. */
	public String log() {
		try {
			return Files.readString(this.log, StandardCharsets.UTF_8);
		}
		catch (IOException ex) {
			return "(no log: " + ex + ")";
		}
	}

	/** Stops the process hard, like a node that dies: SIGKILL, nothing of it runs afterwards. */
	public void kill() {
		this.process.destroyForcibly();
		waitFor();
	}

	public boolean isAlive() {
		return this.process.isAlive();
	}

	/** Stops the process gracefully (SIGTERM), as Kubernetes does first. */
	@Override
	public void close() {
		if (this.process.isAlive()) {
			this.process.destroy();
			try {
				if (!this.process.waitFor(30, TimeUnit.SECONDS)) {
					this.process.destroyForcibly();
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				this.process.destroyForcibly();
			}
		}
	}

	private void waitFor() {
		try {
			this.process.waitFor(30, TimeUnit.SECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private void awaitUp(Duration timeout) {
		try {
			await().atMost(timeout).pollInterval(Duration.ofMillis(250)).until(() -> {
				if (!this.process.isAlive()) {
					throw new IllegalStateException("replica " + this.name + " exited with " + this.process.exitValue()
							+ ":\n" + tail(log(), 4000));
				}
				return get("/actuator/health").status() > 0;
			});
		}
		catch (RuntimeException ex) {
			close();
			throw ex;
		}
	}

	private static String tail(String text, int max) {
		return (text.length() <= max) ? text : text.substring(text.length() - max);
	}

	private static int freePort() {
		try (ServerSocket socket = new ServerSocket(0)) {
			return socket.getLocalPort();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	/** An HTTP answer. */
	public record Answer(int status, String body) {
	}

}
