package io.pglockwatch.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.pglockwatch.testsupport.LockScenario;
import io.pglockwatch.testsupport.PostgresServer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Months of incidents compressed into minutes: the service jar runs as a child process of its own (so its heap,
 * threads and RSS are its own) against an embedded PostgreSQL, with fast pacing (poll every 200 ms, min-wait 200 ms,
 * resolve-after 500 ms) and a low {@code incidents.max-count}, so pruning holds the rows early in the run. Workers,
 * each on a table of its own, stage the ALTER TABLE incident again and again (an idle reader in a transaction, an
 * {@code ALTER TABLE} waiting behind it, three SELECTs queued behind the ALTER), wait for the webhook's
 * {@code opened}, end the reader and wait for {@code resolved}; one more incident stays open for the whole run.
 * <p>
 * Every {@code bench.soak.sample-seconds} (default 30) it samples the store's size (the H2 file, or
 * {@code pg_database_size} of the store database), its live data ({@code pglockwatch_store_live_bytes}), the heap
 * after a full GC ({@code jcmd GC.run}, then {@code jvm_memory_used_bytes{area="heap"}}), threads and RSS (from
 * {@code /proc}), prints a row, and appends it to {@code target/soak/<store>/samples.csv}. At the end it prints a
 * summary per store with the least-squares slope of each figure over the last half of the run, and checks the goals.
 * <p>
 * Run with {@code bench/soak.sh [incidents] [h2|postgresql|both]}.
 */
public final class SoakBenchmark {

	private static final String TARGET_DATABASE = PostgresServer.DEFAULT_DATABASE;

	private static final String STORE_DATABASE = "soak_store";

	private static final String OPEN_TABLE = "soak_open";

	private static final int QUEUED = 3;

	private static final int MAX_COUNT = Integer.getInteger("bench.soak.max-count", 400);

	private static final int WORKERS = Integer.getInteger("bench.soak.workers", 4);

	/** How long each incident stays open after its webhook arrived; 0 keeps incidents about a second long. */
	private static final Duration HOLD = Duration.ofMillis(Long.getLong("bench.soak.hold-millis", 0));

	private static final Duration SAMPLE_EVERY = Duration.ofSeconds(Long.getLong("bench.soak.sample-seconds", 30));

	private static final Duration EVENT_TIMEOUT = Duration.ofSeconds(30);

	/** How long the run goes on, quiet, after the last incident: past one refresh of the store gauges (60 s). */
	private static final Duration QUIET_TAIL = Duration.ofSeconds(65);

	private static final double MIB = 1024.0 * 1024.0;

	/** Goal: the H2 file at most this many times its live data at the end. */
	private static final double MAX_SIZE_TO_LIVE = 2.0;

	/** Goal: the store grows by at most this share of its final size over the last half (least squares). */
	private static final double MAX_LAST_HALF_GROWTH = 0.10;

	/** Goal: heap after GC grows less than this per hour over the last half. */
	private static final double MAX_HEAP_SLOPE_MIB_PER_HOUR = 1.0;

	private SoakBenchmark() {
	}

	public static void main(String[] args) throws Exception {
		try {
			int incidents = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
			String choice = args.length > 1 ? args[1] : "both";
			List<String> stores = switch (choice) {
				case "h2", "postgresql" -> List.of(choice);
				case "both" -> List.of("h2", "postgresql");
				default -> throw new IllegalArgumentException("store must be h2, postgresql or both, not '" + choice + "'");
			};
			Path jar = jar();
			PostgresServer server = PostgresServer.shared();
			List<Result> results = new ArrayList<>();
			for (String store : stores) {
				results.add(new Run(server, jar, store, incidents).call());
			}
			printSummary(jar, server, incidents, results);
		}
		finally {
			PostgresServer.closeShared();
		}
	}

	/** The jar named by {@code -Dpglockwatch.bench.jar}, else the one {@code mvn package} left in target/. */
	private static Path jar() throws IOException {
		String given = System.getProperty("pglockwatch.bench.jar", "");
		if (!given.isBlank()) {
			Path jar = Path.of(given).toAbsolutePath();
			if (!Files.isRegularFile(jar)) {
				throw new IllegalArgumentException("pglockwatch.bench.jar=" + given + " is not a file");
			}
			return jar;
		}
		try (Stream<Path> files = Files.list(Path.of("target"))) {
			return files.filter((f) -> f.getFileName().toString().matches("pg-lockwatch-.*\\.jar"))
				.filter((f) -> !f.getFileName().toString().endsWith("-plain.jar"))
				.max(Comparator.comparing((Path f) -> f.toFile().lastModified()))
				.map(Path::toAbsolutePath)
				.orElseThrow(() -> new IllegalStateException(
						"no target/pg-lockwatch-*.jar; run mvn package -DskipTests (bench/soak.sh does) or set -Dpglockwatch.bench.jar"));
		}
	}

	private static void printSummary(Path jar, PostgresServer server, int incidents, List<Result> results) {
		System.out.println();
		System.out.printf(Locale.ROOT, "Soak: %d incidents (%d workers, each on its own table) + 1 held open; jar %s; %d cores, "
				+ "JVM %s, service -Xmx256m; PostgreSQL %d; poll 200 ms, min-wait 200 ms, resolve-after 500 ms, "
				+ "incidents.max-count %d, prune-interval 10 s; each incident held %d ms after its webhook; sampled every %d s%n",
				incidents, WORKERS,
				jar.getFileName(), Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
				server.majorVersion(), MAX_COUNT, HOLD.toMillis(), SAMPLE_EVERY.toSeconds());
		System.out.println();
		System.out.println("| store | run (min) | incidents driven | opened (metric) | webhook opened / escalated / resolved "
				+ "| keys not opened+resolved once | no open / no resolve within 30 s | store size (MiB) | live (MiB) "
				+ "| size / live | heap after GC (MiB) | threads | RSS (MiB) |");
		System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
		for (Result r : results) {
			Sample last = r.samples.get(r.samples.size() - 1);
			System.out.printf(Locale.ROOT, "| %s | %.1f | %d | %.0f | %d / %d / %d | %d | %d / %d | %.1f | %.1f | %.1f | %.1f | %d | %.0f |%n",
					r.store, last.seconds / 60, r.driven, r.openedMetric, r.receiver.total("opened"),
					r.receiver.total("escalated"), r.receiver.total("resolved"), r.receiver.mismatched().size(),
					r.notOpened, r.notResolved, last.storeBytes / MIB, last.liveBytes / MIB, last.storeBytes / last.liveBytes,
					last.heapBytes / MIB, last.threads, last.rssBytes / MIB);
		}
		System.out.println();
		System.out.println("Slope over the last half of the run (least squares), per hour and per 1000 incidents:");
		System.out.println();
		System.out.println("| store | store size (MiB/h) | live (MiB/h) | heap after GC (MiB/h) | threads (/h) | RSS (MiB/h) "
				+ "| store size (MiB / 1000 incidents) | heap after GC (MiB / 1000 incidents) |");
		System.out.println("|---|---|---|---|---|---|---|---|");
		for (Result r : results) {
			System.out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %+.2f | %+.3f |%n", r.store,
					r.slope((s) -> s.storeBytes / MIB), r.slope((s) -> s.liveBytes / MIB), r.slope((s) -> s.heapBytes / MIB),
					r.slope((s) -> s.threads), r.slope((s) -> s.rssBytes / MIB), r.slopePerThousand((s) -> s.storeBytes) / MIB,
					r.slopePerThousand((s) -> s.heapBytes) / MIB);
		}
		System.out.println("(+- the standard error of the slope; per 1000 incidents over the last half while incidents were driven)");
		System.out.println();
		for (Result r : results) {
			Sample last = r.samples.get(r.samples.size() - 1);
			double ratio = last.storeBytes / last.liveBytes;
			double growth = r.slopePerHour((s) -> s.storeBytes) * r.lastHalfHours() / last.storeBytes;
			double heapSlope = r.slopePerHour((s) -> s.heapBytes) / MIB;
			double heapError = r.slopeErrorPerHour((s) -> s.heapBytes) / MIB;
			boolean alerts = r.receiver.mismatched().isEmpty() && r.notOpened == 0 && r.notResolved == 0;
			// a PostgreSQL database's size includes its catalog (about 7 MiB when empty), so the ratio goal is the H2 file's
			System.out.printf(Locale.ROOT, "%s: store size <= %.0fx live at the end: %s (%.2fx)%n", r.store, MAX_SIZE_TO_LIVE,
					r.store.equals("h2") ? verdict(ratio <= MAX_SIZE_TO_LIVE) : "n/a, the goal is for the H2 file", ratio);
			System.out.printf(Locale.ROOT, "%s: store size flat over the last half (grew <= %.0f%% of its final size): %s (%+.1f%%)%n",
					r.store, MAX_LAST_HALF_GROWTH * 100, verdict(growth <= MAX_LAST_HALF_GROWTH), growth * 100);
			System.out.printf(Locale.ROOT, "%s: heap after GC slope over the last half < %.0f MiB/h: %s (%+.2f +- %.2f MiB/h)%n",
					r.store, MAX_HEAP_SLOPE_MIB_PER_HOUR, verdict(heapSlope < MAX_HEAP_SLOPE_MIB_PER_HOUR), heapSlope, heapError);
			System.out.printf(Locale.ROOT, "%s: every incident opened and resolved once on the webhook: %s%n", r.store,
					verdict(alerts));
			r.receiver.mismatched().entrySet().stream().limit(10).forEach((e) -> System.out.printf(Locale.ROOT,
					"    %s: opened %d, escalated %d, resolved %d%n", e.getKey(), e.getValue()[0], e.getValue()[1], e.getValue()[2]));
			System.out.println("    samples: " + r.csv + "; service log: " + r.log);
		}
	}

	private static String verdict(boolean pass) {
		return pass ? "PASS" : "FAIL";
	}

	/** One figure set at one moment of a run. */
	record Sample(double seconds, int incidents, int opened, int resolved, double storeBytes, double liveBytes,
			double heapBytes, int threads, double rssBytes) {

		static final String CSV_HEADER = "seconds,incidents,webhook_opened,webhook_resolved,store_bytes,live_bytes,heap_after_gc_bytes,threads,rss_bytes";

		String csv() {
			return String.format(Locale.ROOT, "%.1f,%d,%d,%d,%.0f,%.0f,%.0f,%d,%.0f", this.seconds, this.incidents,
					this.opened, this.resolved, this.storeBytes, this.liveBytes, this.heapBytes, this.threads, this.rssBytes);
		}

		String row() {
			return String.format(Locale.ROOT, "| %6.0f | %5d | %5d / %5d | %8.1f | %6.1f | %6.1f | %3d | %6.1f |", this.seconds,
					this.incidents, this.opened, this.resolved, this.storeBytes / MIB, this.liveBytes / MIB, this.heapBytes / MIB,
					this.threads, this.rssBytes / MIB);
		}

	}

	/** What one store's run measured. */
	record Result(String store, int driven, int notOpened, int notResolved, double openedMetric, Receiver receiver,
			List<Sample> samples, Path csv, Path log) {

		private List<Sample> lastHalf() {
			double end = this.samples.get(this.samples.size() - 1).seconds;
			return this.samples.stream().filter((s) -> s.seconds >= end / 2).toList();
		}

		String slope(ToDoubleFunction<Sample> figure) {
			return String.format(Locale.ROOT, "%+.1f +- %.1f", slopePerHour(figure), slopeErrorPerHour(figure));
		}

		double lastHalfHours() {
			List<Sample> half = lastHalf();
			return (half.get(half.size() - 1).seconds - half.get(0).seconds) / 3600;
		}

		double slopePerHour(ToDoubleFunction<Sample> figure) {
			return slope(lastHalf(), (s) -> s.seconds / 3600, figure)[0];
		}

		/** The standard error of {@link #slopePerHour}: how far apart two runs' slopes may lie by noise alone. */
		double slopeErrorPerHour(ToDoubleFunction<Sample> figure) {
			return slope(lastHalf(), (s) -> s.seconds / 3600, figure)[1];
		}

		/** Over the last half while incidents were driven: the quiet tail would add growth at a constant count. */
		double slopePerThousand(ToDoubleFunction<Sample> figure) {
			double driving = this.samples.stream().filter((s) -> s.incidents >= this.driven).mapToDouble(Sample::seconds)
				.min().orElse(Double.MAX_VALUE);
			return slope(lastHalf().stream().filter((s) -> s.seconds <= driving).toList(), (s) -> s.incidents / 1000.0,
					figure)[0];
		}

		/** Least squares slope and its standard error; NaN with too few distinct x. */
		private static double[] slope(List<Sample> samples, ToDoubleFunction<Sample> x, ToDoubleFunction<Sample> y) {
			double n = samples.size();
			double meanX = samples.stream().mapToDouble(x).sum() / n;
			double meanY = samples.stream().mapToDouble(y).sum() / n;
			double sxy = 0;
			double sxx = 0;
			for (Sample s : samples) {
				double dx = x.applyAsDouble(s) - meanX;
				sxy += dx * (y.applyAsDouble(s) - meanY);
				sxx += dx * dx;
			}
			if (sxx == 0) {
				return new double[] { Double.NaN, Double.NaN };
			}
			double slope = sxy / sxx;
			double residuals = 0;
			for (Sample s : samples) {
				double r = y.applyAsDouble(s) - meanY - slope * (x.applyAsDouble(s) - meanX);
				residuals += r * r;
			}
			return new double[] { slope, (n > 2) ? Math.sqrt(residuals / (n - 2) / sxx) : Double.NaN };
		}

	}

	/** One store: a fresh store, the service as a child process, the workers, the sampler. */
	private static final class Run {

		private final PostgresServer server;

		private final Path jar;

		private final String store;

		private final int incidents;

		private final Path directory;

		private final AtomicInteger next = new AtomicInteger();

		private final AtomicInteger done = new AtomicInteger();

		private final AtomicInteger notOpened = new AtomicInteger();

		private final AtomicInteger notResolved = new AtomicInteger();

		private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

		private int port;

		private Process service;

		Run(PostgresServer server, Path jar, String store, int incidents) {
			this.server = server;
			this.jar = jar;
			this.store = store;
			this.incidents = incidents;
			this.directory = Path.of("target", "soak", store).toAbsolutePath();
		}

		Result call() throws Exception {
			deleteRecursively(this.directory);
			Files.createDirectories(this.directory);
			createTables();
			if (this.store.equals("postgresql")) {
				recreateStoreDatabase();
			}
			Path csv = this.directory.resolve("samples.csv");
			Path log = this.directory.resolve("service.log");
			List<Sample> samples = new ArrayList<>();
			try (Receiver receiver = Receiver.start()) {
				this.service = startService(receiver, log);
				Thread killer = new Thread(this.service::destroyForcibly, "soak-service-killer");
				Runtime.getRuntime().addShutdownHook(killer);
				ExecutorService workers = Executors.newFixedThreadPool(WORKERS);
				LockScenario held = null;
				try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(csv))) {
					awaitReady(log);
					held = new LockScenario(this.server, TARGET_DATABASE, "soakheld");
					held.stageDdlQueue(OPEN_TABLE, "ALTER COLUMN note SET DEFAULT 'held'", QUEUED);
					awaitCount(() -> receiver.byRelation("opened", OPEN_TABLE), 1);
					out.println(Sample.CSV_HEADER);
					System.out.printf("%nSoak, %s store, %d incidents, %d workers (service pid %d, log %s)%n", this.store,
							this.incidents, WORKERS, this.service.pid(), log);
					System.out.println("| s | incidents | webhook opened / resolved | store (MiB) | live (MiB) | heap after GC (MiB) | threads | RSS (MiB) |");
					System.out.println("|---|---|---|---|---|---|---|---|");
					long start = System.nanoTime();
					List<Future<?>> running = new ArrayList<>();
					for (int w = 0; w < WORKERS; w++) {
						int worker = w;
						running.add(workers.submit(() -> {
							drive(receiver, worker);
							return null;
						}));
					}
					long nextSample = start;
					long end = Long.MAX_VALUE;
					while (System.nanoTime() < end) {
						if (end == Long.MAX_VALUE && running.stream().allMatch(Future::isDone)) {
							for (Future<?> f : running) {
								f.get();
							}
							// the live gauge is refreshed every 60 s: sample on past one refresh after the last incident
							end = System.nanoTime() + QUIET_TAIL.toNanos();
						}
						if (System.nanoTime() >= nextSample) {
							record(samples, sample(receiver, start), out);
							nextSample += SAMPLE_EVERY.toNanos();
						}
						if (!this.service.isAlive()) {
							throw new IllegalStateException("the service exited with " + this.service.exitValue() + "; see " + log);
						}
						Thread.sleep(200);
					}
					record(samples, sample(receiver, start), out);
				}
				finally {
					workers.shutdownNow();
					if (held != null) {
						held.close();
					}
				}
				awaitCount(() -> receiver.byRelation("resolved", OPEN_TABLE), 1);
				double openedMetric = metrics().getOrDefault("pglockwatch_incidents_opened_total", Double.NaN);
				stopService();
				Runtime.getRuntime().removeShutdownHook(killer);
				return new Result(this.store, this.done.get(), this.notOpened.get(), this.notResolved.get(), openedMetric,
						receiver, samples, csv, log);
			}
			finally {
				stopService();
			}
		}

		private static void record(List<Sample> samples, Sample sample, PrintWriter out) {
			samples.add(sample);
			out.println(sample.csv());
			out.flush();
			System.out.println(sample.row());
		}

		/** Stages incidents on this worker's table until the run has had its number. */
		private void drive(Receiver receiver, int worker) throws Exception {
			String table = "soak_" + worker;
			while (this.next.getAndIncrement() < this.incidents) {
				int opened = receiver.byRelation("opened", table);
				int resolved = receiver.byRelation("resolved", table);
				int n = this.done.get();
				try (LockScenario scenario = new LockScenario(this.server, TARGET_DATABASE, "soak" + worker + "_" + n)) {
					LockScenario.DdlQueue queue = scenario.stageDdlQueue(table, "ALTER COLUMN note SET DEFAULT '" + n + "'", QUEUED);
					if (!awaitCount(() -> receiver.byRelation("opened", table), opened + 1)) {
						this.notOpened.incrementAndGet();
					}
					Thread.sleep(HOLD.toMillis());
					queue.holder().execute("ROLLBACK");
					scenario.awaitNoWaiters(Duration.ofSeconds(10));
				}
				if (!awaitCount(() -> receiver.byRelation("resolved", table), resolved + 1)) {
					this.notResolved.incrementAndGet();
				}
				this.done.incrementAndGet();
			}
		}

		private static boolean awaitCount(IntSupplier count, int atLeast) throws InterruptedException {
			long deadline = System.nanoTime() + EVENT_TIMEOUT.toNanos();
			while (count.getAsInt() < atLeast) {
				if (System.nanoTime() > deadline) {
					return false;
				}
				Thread.sleep(20);
			}
			return true;
		}

		private Sample sample(Receiver receiver, long start) throws Exception {
			double seconds = (System.nanoTime() - start) / 1e9;
			int incidentsDone = this.done.get();
			double storeBytes = storeBytes();
			jcmd("GC.run");
			Map<String, Double> metrics = metrics();
			Map<String, Long> status = procStatus(this.service.pid());
			return new Sample(seconds, incidentsDone, receiver.total("opened"), receiver.total("resolved"), storeBytes,
					metrics.getOrDefault("pglockwatch_store_live_bytes", Double.NaN),
					metrics.getOrDefault("jvm_memory_used_bytes{area=\"heap\"}", Double.NaN),
					status.getOrDefault("Threads", -1L).intValue(), status.getOrDefault("VmRSS", -1L) * 1024.0);
		}

		private double storeBytes() throws Exception {
			if (this.store.equals("h2")) {
				Path file = this.directory.resolve("h2").resolve("pglockwatch.mv.db");
				return Files.exists(file) ? Files.size(file) : Double.NaN;
			}
			try (Connection c = this.server.connect("postgres", "soak-probe");
					Statement s = c.createStatement();
					ResultSet rs = s.executeQuery("SELECT pg_database_size('" + STORE_DATABASE + "')")) {
				rs.next();
				return rs.getLong(1);
			}
		}

		/** Sums of the Prometheus series by name, plus the heap series summed under {@code name{area="heap"}}. */
		private Map<String, Double> metrics() throws Exception {
			HttpResponse<String> response = this.http.send(HttpRequest.newBuilder(uri("/actuator/prometheus"))
				.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
			if (response.statusCode() != 200) {
				throw new IllegalStateException("/actuator/prometheus answered " + response.statusCode());
			}
			Map<String, Double> sums = new LinkedHashMap<>();
			for (String line : response.body().split("\n")) {
				if (line.isBlank() || line.startsWith("#")) {
					continue;
				}
				int space = line.lastIndexOf(' ');
				int brace = line.indexOf('{');
				String name = (brace > 0 && brace < space) ? line.substring(0, brace) : line.substring(0, space);
				double value = Double.parseDouble(line.substring(space + 1));
				sums.merge(name, value, Double::sum);
				if (name.equals("jvm_memory_used_bytes") && line.contains("area=\"heap\"")) {
					sums.merge(name + "{area=\"heap\"}", value, Double::sum);
				}
			}
			return sums;
		}

		private void jcmd(String command) throws Exception {
			Process jcmd = new ProcessBuilder("jcmd", Long.toString(this.service.pid()), command)
				.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
			if (!jcmd.waitFor(60, TimeUnit.SECONDS) || jcmd.exitValue() != 0) {
				jcmd.destroyForcibly();
				throw new IllegalStateException("jcmd " + this.service.pid() + " " + command + " failed");
			}
		}

		private static Map<String, Long> procStatus(long pid) throws IOException {
			Map<String, Long> values = new LinkedHashMap<>();
			for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
				String[] parts = line.split(":\\s+", 2);
				if (parts.length == 2 && (parts[0].equals("Threads") || parts[0].equals("VmRSS"))) {
					values.put(parts[0], Long.parseLong(parts[1].replace("kB", "").trim()));
				}
			}
			return values;
		}

		private Process startService(Receiver receiver, Path log) throws IOException {
			this.port = freePort();
			String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
			List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-jar", this.jar.toString(),
					"--server.port=" + this.port, "--server.address=127.0.0.1",
					"--pglockwatch.security.login-required=false",
					"--pglockwatch.targets[0].name=soak",
					"--pglockwatch.targets[0].url=" + this.server.jdbcUrl(TARGET_DATABASE),
					"--pglockwatch.targets[0].username=" + this.server.superuser(),
					"--pglockwatch.targets[0].password=" + this.server.password(),
					"--pglockwatch.poll.interval=200ms",
					// the default 2 s statement timeout must fit within interval x deadline
					"--pglockwatch.poll.deadline=10",
					"--pglockwatch.detection.ddl-queue.min-wait=200ms",
					"--pglockwatch.detection.ddl-queue.min-queued=" + QUEUED,
					"--pglockwatch.detection.resolve-after=500ms",
					"--pglockwatch.incidents.max-count=" + MAX_COUNT,
					"--pglockwatch.incidents.prune-interval=10s",
					"--pglockwatch.alerts.webhook.url=" + receiver.url(),
					"--pglockwatch.alerts.dashboard-url=http://localhost:8080",
					"--pglockwatch.alerts.delivery.max-events-per-minute=100000"));
			if (this.store.equals("h2")) {
				command.add("--spring.datasource.url=jdbc:h2:file:" + this.directory.resolve("h2").resolve("pglockwatch"));
			}
			else {
				command.add("--spring.datasource.url=" + this.server.jdbcUrl(STORE_DATABASE));
				command.add("--spring.datasource.username=" + this.server.superuser());
				command.add("--spring.datasource.password=" + this.server.password());
			}
			return new ProcessBuilder(command).directory(this.directory.toFile()).redirectErrorStream(true)
				.redirectOutput(log.toFile()).start();
		}

		private void awaitReady(Path log) throws Exception {
			long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
			while (System.nanoTime() < deadline) {
				if (!this.service.isAlive()) {
					throw new IllegalStateException("the service exited with " + this.service.exitValue() + " at startup; see " + log);
				}
				try {
					HttpResponse<Void> response = this.http.send(HttpRequest.newBuilder(uri("/actuator/health/readiness"))
						.timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding());
					if (response.statusCode() == 200) {
						return;
					}
				}
				catch (IOException ex) {
					// not listening yet
				}
				Thread.sleep(500);
			}
			throw new IllegalStateException("the service was not ready within 3 minutes; see " + log);
		}

		private void stopService() throws InterruptedException {
			if (this.service != null && this.service.isAlive()) {
				this.service.destroy();
				if (!this.service.waitFor(30, TimeUnit.SECONDS)) {
					this.service.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
				}
			}
		}

		private URI uri(String path) {
			return URI.create("http://127.0.0.1:" + this.port + path);
		}

		private void createTables() throws Exception {
			try (Connection c = this.server.connect(TARGET_DATABASE, "soak-setup"); Statement s = c.createStatement()) {
				for (int w = 0; w <= WORKERS; w++) {
					String table = (w < WORKERS) ? "soak_" + w : OPEN_TABLE;
					s.execute("DROP TABLE IF EXISTS " + table);
					s.execute("CREATE TABLE " + table + " (id int PRIMARY KEY, note text)");
					s.execute("INSERT INTO " + table + " VALUES (1, 'soak')");
				}
			}
		}

		private void recreateStoreDatabase() throws Exception {
			try (Connection c = this.server.connect("postgres", "soak-setup"); Statement s = c.createStatement()) {
				s.execute("DROP DATABASE IF EXISTS " + STORE_DATABASE + " WITH (FORCE)");
			}
			this.server.createDatabase(STORE_DATABASE);
		}

		private static int freePort() throws IOException {
			try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
				return socket.getLocalPort();
			}
		}

		private static void deleteRecursively(Path directory) throws IOException {
			if (!Files.exists(directory)) {
				return;
			}
			try (Stream<Path> paths = Files.walk(directory)) {
				for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
					Files.delete(path);
				}
			}
		}

	}

	/**
	 * The webhook's receiving end: counts events by dedup key and by relation, so a worker can wait for its table's
	 * next opened / resolved and the summary can list the incidents that did not open and resolve exactly once.
	 */
	static final class Receiver implements AutoCloseable {

		private static final String PATH = "/hook";

		private final JsonMapper json = JsonMapper.builder().build();

		private final HttpServer server;

		private final ExecutorService executor = Executors.newFixedThreadPool(2);

		/** dedup key -> opened, escalated, resolved. */
		private final Map<String, int[]> byKey = new ConcurrentHashMap<>();

		private final Map<String, AtomicInteger> byRelation = new ConcurrentHashMap<>();

		private final Map<String, AtomicInteger> totals = new ConcurrentHashMap<>();

		private Receiver() throws IOException {
			this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
			this.server.createContext(PATH, this::handle);
			this.server.setExecutor(this.executor);
			this.server.start();
		}

		static Receiver start() throws IOException {
			return new Receiver();
		}

		String url() {
			return "http://127.0.0.1:" + this.server.getAddress().getPort() + PATH;
		}

		int byRelation(String event, String table) {
			AtomicInteger count = this.byRelation.get(event + " public." + table);
			return (count != null) ? count.get() : 0;
		}

		int total(String event) {
			AtomicInteger count = this.totals.get(event);
			return (count != null) ? count.get() : 0;
		}

		/** Dedup keys whose incident was not opened once and resolved once, with their counts. */
		Map<String, int[]> mismatched() {
			Map<String, int[]> result = new LinkedHashMap<>();
			this.byKey.forEach((key, counts) -> {
				if (counts[0] != 1 || counts[2] != 1) {
					result.put(key, counts.clone());
				}
			});
			return result;
		}

		private void handle(HttpExchange exchange) throws IOException {
			try (InputStream body = exchange.getRequestBody()) {
				JsonNode event = this.json.readTree(body.readAllBytes());
				String action = event.path("event").asString();
				JsonNode incident = event.path("incident");
				int slot = switch (action) {
					case "opened" -> 0;
					case "escalated" -> 1;
					case "resolved" -> 2;
					default -> -1;
				};
				if (slot >= 0) {
					this.byKey.compute(incident.path("dedupKey").asString(), (key, counts) -> {
						int[] next = (counts != null) ? counts : new int[3];
						next[slot]++;
						return next;
					});
				}
				this.totals.computeIfAbsent(action, (a) -> new AtomicInteger()).incrementAndGet();
				this.byRelation.computeIfAbsent(action + " " + incident.path("relation").asString(), (r) -> new AtomicInteger())
					.incrementAndGet();
				exchange.sendResponseHeaders(204, -1);
			}
			catch (RuntimeException ex) {
				exchange.sendResponseHeaders(400, -1);
			}
			finally {
				exchange.close();
			}
		}

		@Override
		public void close() {
			this.server.stop(0);
			this.executor.shutdownNow();
		}

	}

}
