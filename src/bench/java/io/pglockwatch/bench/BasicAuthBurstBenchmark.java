package io.pglockwatch.bench;

import java.util.concurrent.TimeUnit;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.pglockwatch.PgLockwatchApplication;
import io.pglockwatch.testsupport.PostgresServer;
import io.pglockwatch.testsupport.TestLogin;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A burst of concurrent API requests with HTTP Basic (bcrypt, cost 10, on every request) against the same burst with
 * a bearer token (one SHA-256), while the service polls a real embedded PostgreSQL every second: request latency,
 * and whether the polls stay on time (start delay, overruns) during each burst. Run with
 * {@code bench/basic-auth-burst.sh [requests]} (default 200).
 */
public final class BasicAuthBurstBenchmark {

	private static final String TOKEN = "bench-token-0123456789abcdef0123456789abcdef";

	private BasicAuthBurstBenchmark() {
	}

	public static void main(String[] args) throws Exception {
		int requests = args.length > 0 ? Integer.parseInt(args[0]) : 200;
		try {
			PostgresServer server = PostgresServer.shared();
			try (ConfigurableApplicationContext app = new SpringApplicationBuilder(PgLockwatchApplication.class).run(
					"--server.port=0", "--spring.main.banner-mode=off", "--logging.level.root=WARN",
					"--spring.datasource.url=jdbc:h2:mem:burst;DB_CLOSE_DELAY=-1", "--pglockwatch.targets[0].name=bench",
					"--pglockwatch.targets[0].url=" + server.jdbcUrl(PostgresServer.DEFAULT_DATABASE),
					"--pglockwatch.targets[0].username=" + server.superuser(),
					"--pglockwatch.targets[0].password=" + server.password(),
					"--pglockwatch.security.users[0].name=sre",
					"--pglockwatch.security.users[0].password-hash=" + TestLogin.HASH,
					"--pglockwatch.security.users[0].role=viewer", "--pglockwatch.security.api-tokens[0].name=pipeline",
					"--pglockwatch.security.api-tokens[0].sha256=" + sha256(TOKEN),
					"--pglockwatch.security.api-tokens[0].role=viewer")) {
				int port = ((WebServerApplicationContext) app).getWebServer().getPort();
				MeterRegistry registry = app.getBean(MeterRegistry.class);
				Thread.sleep(5000); // warm-up: JIT, first polls, connection
				String basic = "Basic " + Base64.getEncoder()
					.encodeToString(("sre:" + TestLogin.PASSWORD).getBytes(StandardCharsets.UTF_8));
				List<String> rows = new ArrayList<>();
				rows.add(phase("quiet, 5 s", registry, () -> Thread.sleep(5000), null));
				rows.add(phase(requests + " x Basic", registry, null, burst(port, basic, requests)));
				rows.add(phase(requests + " x bearer", registry, null, burst(port, "Bearer " + TOKEN, requests)));
				System.out.println();
				System.out.println("API bursts while polling every 1 s (" + Runtime.getRuntime().availableProcessors()
						+ " CPUs): latency of GET /api/v1/targets, and the polls during the burst");
				System.out.println();
				System.out.println("| phase | requests OK | p50 (s) | p95 (s) | max (s) | polls | poll start delay max (ms) | overruns |");
				System.out.println("|---|---|---|---|---|---|---|---|");
				rows.forEach(System.out::println);
			}
		}
		finally {
			PostgresServer.closeShared();
		}
	}

	interface Quiet {

		void run() throws Exception;

	}

	private static Burst burst(int port, String authorization, int requests) {
		return () -> {
			HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
			ExecutorService clients = Executors.newFixedThreadPool(requests);
			try {
				List<CompletableFuture<double[]>> results = new ArrayList<>();
				for (int i = 0; i < requests; i++) {
					results.add(CompletableFuture.supplyAsync(() -> {
						long start = System.nanoTime();
						try {
							int status = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/api/v1/targets"))
								.header("Authorization", authorization)
								.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
							return new double[] { (System.nanoTime() - start) / 1e9, status };
						}
						catch (Exception ex) {
							return new double[] { (System.nanoTime() - start) / 1e9, -1 };
						}
					}, clients));
				}
				return results.stream().map(CompletableFuture::join).toList();
			}
			finally {
				clients.shutdown();
			}
		};
	}

	interface Burst {

		List<double[]> run() throws Exception;

	}

	private static String phase(String name, MeterRegistry registry, Quiet quiet, Burst burst) throws Exception {
		Timer startDelay = registry.get("pglockwatch.poll.start.delay").timer();
		long pollsBefore = startDelay.count();
		double overrunsBefore = registry.get("pglockwatch.poll.overruns").counter().count();
		// the timer's max decays over its window; sample it while the phase runs
		double[] maxDelay = { 0 };
		Thread sampler = new Thread(() -> {
			while (!Thread.currentThread().isInterrupted()) {
				maxDelay[0] = Math.max(maxDelay[0], startDelay.max(TimeUnit.MILLISECONDS));
				try {
					Thread.sleep(50);
				}
				catch (InterruptedException ex) {
					return;
				}
			}
		});
		startDelay.max(TimeUnit.MILLISECONDS);
		sampler.start();
		List<double[]> results = List.of();
		if (quiet != null) {
			quiet.run();
		}
		else {
			results = burst.run();
		}
		Thread.sleep(1100); // the poll due during the burst's last moment
		sampler.interrupt();
		sampler.join();
		long polls = startDelay.count() - pollsBefore;
		double overruns = registry.get("pglockwatch.poll.overruns").counter().count() - overrunsBefore;
		if (results.isEmpty()) {
			return "| " + name + " | - | - | - | - | " + polls + " | " + Math.round(maxDelay[0]) + " | " + (long) overruns + " |";
		}
		double[] latencies = results.stream().mapToDouble((r) -> r[0]).sorted().toArray();
		long ok = results.stream().filter((r) -> r[1] == 200).count();
		return "| " + name + " | " + ok + " | " + String.format("%.2f", latencies[latencies.length / 2]) + " | "
				+ String.format("%.2f", latencies[(int) (latencies.length * 0.95)]) + " | "
				+ String.format("%.2f", latencies[latencies.length - 1]) + " | " + polls + " | "
				+ Math.round(maxDelay[0]) + " | " + (long) overruns + " |";
	}

	private static String sha256(String token) throws Exception {
		return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
	}

}
