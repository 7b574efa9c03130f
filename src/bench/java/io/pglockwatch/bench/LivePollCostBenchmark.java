package io.pglockwatch.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import io.pglockwatch.testsupport.LockScenario;
import io.pglockwatch.testsupport.PostgresServer;
import io.pglockwatch.testsupport.ServiceProcess;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * The live poll against the bare reads: what the running service's own timer ({@code pglockwatch_poll_duration_seconds})
 * reports per poll, next to what two bare reads of {@code pg_stat_activity} and {@code pg_locks} take in the same
 * minutes, on the same server, with N sessions queued behind a waiting ALTER TABLE.
 * <p>
 * Per N (the queue grows from one N to the next: a holder idle in transaction, the ALTER TABLE waiting for
 * AccessExclusiveLock, and behind it 4 readers for every writer) and per burst setting (the default 250 ms, so the
 * target is polled 4 times a second while the DDL waits, and {@code 0}, bursts off: once a second), the service is
 * started as a process of its own ({@link ServiceProcess}, both JIT tiers as in production, 512 MB heap, H2 in memory
 * as store) watching that database with its defaults. Once its polls see the whole queue it is left to warm up (20 s
 * by default), then over the window (25 s) the mean live poll is the delta of {@code _sum} over the delta of
 * {@code _count} from {@code /actuator/prometheus}. In the same window, interleaved with the service's polls, this
 * process runs the bare reads 10 times a second on one connection it opened before: {@code SELECT * FROM
 * pg_stat_activity} and {@code SELECT * FROM pg_locks}, plain statements, every row and column read as text (what psql
 * receives; no timestamp is parsed).
 * <p>
 * With {@code -Dbench.jfr=true} a flight recording of the window (method samples every 1 ms) is taken of the service
 * with {@code jcmd JFR.start}, kept in {@code target/live-poll/}, and summarised: where the poll threads' samples are
 * (top frames, the project's methods on the stack), what they allocate, and the other busy threads. Figures of a
 * profiled run carry the sampling's own cost: take the table from a run without it.
 * <p>
 * Run with {@code bench/live-poll-cost.sh [N...]} (default 250 1000).
 */
public final class LivePollCostBenchmark {

	private static final String TARGET = "bench";

	private static final String TABLE = "bench_live_poll";

	private static final Duration WARM_UP = Duration.ofSeconds(Long.getLong("bench.warmup", 20));

	private static final Duration WINDOW = Duration.ofSeconds(Long.getLong("bench.window", 25));

	/** One pair of bare reads every this often: about twice per live poll while bursting, without hogging a core. */
	private static final Duration BARE_EVERY = Duration.ofMillis(100);

	private static final boolean JFR = Boolean.getBoolean("bench.jfr");

	private static final Path OUT = Path.of("target", "live-poll");

	static final String ACTIVITY_SQL = "SELECT * FROM pg_stat_activity";

	static final String LOCKS_SQL = "SELECT * FROM pg_locks";

	private LivePollCostBenchmark() {
	}

	public static void main(String[] args) throws Exception {
		int status = 0;
		try {
			int[] sizes = (args.length > 0) ? Arrays.stream(args).mapToInt(Integer::parseInt).sorted().toArray()
					: new int[] { 250, 1000 };
			List<Duration> bursts = Stream.of(System.getProperty("bench.bursts", "250ms,0").split(","))
				.map(String::trim)
				.map(LivePollCostBenchmark::duration)
				.toList();
			run(sizes, bursts);
		}
		catch (Exception ex) {
			ex.printStackTrace();
			status = 1;
		}
		finally {
			PostgresServer.closeShared();
		}
		System.exit(status);
	}

	private static void run(int[] sizes, List<Duration> bursts) throws Exception {
		Files.createDirectories(OUT);
		PostgresServer server = PostgresServer.shared();
		String database = PostgresServer.DEFAULT_DATABASE;
		try (Connection setup = server.connect(database, "bench-setup"); Statement s = setup.createStatement()) {
			s.execute("DROP TABLE IF EXISTS " + TABLE + "; CREATE TABLE " + TABLE + " (id int PRIMARY KEY, name text)");
			s.execute("INSERT INTO " + TABLE + " SELECT g, 'u' || g FROM generate_series(1, 100) g");
		}
		String loadBefore = loadAverage();
		List<Result> results = new ArrayList<>();
		try (LockScenario scenario = new LockScenario(server, database, "livepoll");
				Connection bare = server.connect(database, "bench-bare-reads")) {
			scenario.session("holder").execute("BEGIN; SELECT * FROM " + TABLE + " LIMIT 1");
			LockScenario.Session ddl = scenario.session("ddl");
			ddl.submit("ALTER TABLE " + TABLE + " ADD COLUMN email_verified boolean NOT NULL DEFAULT false");
			scenario.awaitWaiting(ddl, Duration.ofSeconds(20));
			int queued = 0;
			for (int n : sizes) {
				for (; queued < n; queued++) {
					scenario.session("q" + queued)
						.submit((queued % 5 == 4) ? "INSERT INTO " + TABLE + " VALUES (" + (1000 + queued) + ", 'x')"
								: "SELECT count(*) FROM " + TABLE);
				}
				scenario.awaitLockWaiters(n + 1, Duration.ofSeconds(120));
				for (Duration burst : bursts) {
					Result result = measure(server, database, n, burst, bare);
					results.add(result);
					System.out.println(result.row());
				}
			}
		}
		print(server, results, loadBefore);
	}

	private static Result measure(PostgresServer server, String database, int n, Duration burst, Connection bare)
			throws Exception {
		Map<String, String> properties = new LinkedHashMap<>();
		properties.put("pglockwatch.targets[0].name", TARGET);
		properties.put("pglockwatch.targets[0].url", server.jdbcUrl(database));
		properties.put("pglockwatch.targets[0].username", server.superuser());
		properties.put("pglockwatch.targets[0].password", server.password());
		properties.put("pglockwatch.poll.burst-interval", burst.toMillis() + "ms");
		properties.put("spring.datasource.url", "jdbc:h2:mem:livepoll;DB_CLOSE_DELAY=-1");
		String label = "n" + n + "-burst" + burst.toMillis();
		List<String> jvm = List.of("-Xmx512m", "-XX:+UseG1GC", "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"));
		try (ServiceProcess service = ServiceProcess.start("livepoll-" + label, properties, jvm)) {
			awaitQueueSeen(service, n, !burst.isZero());
			// the service warms up while this process warms up its own reads
			long warmUpEnd = System.nanoTime() + WARM_UP.toNanos();
			Samples discard = new Samples();
			while (System.nanoTime() < warmUpEnd) {
				bareReads(bare, discard);
				pace(BARE_EVERY);
			}
			Path recording = JFR ? startRecording(service, label) : null;
			Metrics before = metrics(service);
			long cpuBefore = cpuTicks(service.pid());
			long started = System.nanoTime();
			Samples samples = new Samples();
			long windowEnd = started + WINDOW.toNanos();
			while (System.nanoTime() < windowEnd) {
				bareReads(bare, samples);
				pace(BARE_EVERY);
			}
			Metrics after = metrics(service);
			long cpuAfter = cpuTicks(service.pid());
			double seconds = (System.nanoTime() - started) / 1e9;
			if (recording != null) {
				stopRecording(service, label);
				summarise(recording, label);
			}
			long polls = after.count - before.count;
			if (polls <= 0) {
				throw new IllegalStateException("no poll finished in the window:\n" + service.log());
			}
			double liveMs = (after.sum - before.sum) / polls * 1000;
			long delays = after.delayCount - before.delayCount;
			double delayMs = (delays <= 0) ? Double.NaN : (after.delaySum - before.delaySum) / delays * 1000;
			double cpu = (cpuAfter < 0 || cpuBefore < 0) ? Double.NaN : (cpuAfter - cpuBefore) / 100.0 / seconds * 100;
			return new Result(n, burst, polls, polls / seconds, liveMs, delayMs, after.max * 1000, samples.mean(samples.pair),
					samples.p50(samples.pair), samples.mean(samples.activity), samples.mean(samples.locks),
					samples.pair.size(), after.queueDepth, cpu);
		}
	}

	/** Until the service's latest poll saw the whole queue (and, with bursts on, it bursts). */
	private static void awaitQueueSeen(ServiceProcess service, int n, boolean bursting) throws InterruptedException {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
		Metrics metrics = null;
		while (System.nanoTime() < deadline) {
			metrics = metrics(service);
			if (metrics.queueDepth >= n && (metrics.bursting == 1) == bursting) {
				return;
			}
			Thread.sleep(200);
		}
		throw new IllegalStateException("the service never saw the queue of " + n + " (" + metrics + "):\n" + service.log());
	}

	private static void bareReads(Connection connection, Samples samples) throws SQLException {
		long t0 = System.nanoTime();
		readAll(connection, ACTIVITY_SQL);
		long t1 = System.nanoTime();
		readAll(connection, LOCKS_SQL);
		long t2 = System.nanoTime();
		samples.activity.add(t1 - t0);
		samples.locks.add(t2 - t1);
		samples.pair.add(t2 - t0);
	}

	/** Every row, every column as text: what psql receives and prints, with no parsing of timestamps or addresses. */
	private static void readAll(Connection connection, String sql) throws SQLException {
		try (Statement statement = connection.createStatement(); ResultSet rs = statement.executeQuery(sql)) {
			int columns = rs.getMetaData().getColumnCount();
			while (rs.next()) {
				for (int i = 1; i <= columns; i++) {
					rs.getString(i);
				}
			}
		}
	}

	private static void pace(Duration every) throws InterruptedException {
		Thread.sleep(every.toMillis());
	}

	private static final Pattern SERIES = Pattern.compile("^(pglockwatch_[a-z_]+)(?:\\{([^}]*)\\})? (\\S+)$", Pattern.MULTILINE);

	private static Metrics metrics(ServiceProcess service) {
		ServiceProcess.Answer answer = service.get("/actuator/prometheus");
		if (answer.status() != 200) {
			throw new IllegalStateException("GET /actuator/prometheus: " + answer.status() + " " + answer.body());
		}
		Map<String, Double> values = new HashMap<>();
		Matcher matcher = SERIES.matcher(answer.body());
		while (matcher.find()) {
			// the start-delay histogram is one for all targets, without a target tag
			if (matcher.group(2) == null || matcher.group(2).contains("target=\"" + TARGET + "\"")) {
				values.put(matcher.group(1), Double.parseDouble(matcher.group(3)));
			}
		}
		return new Metrics(values.getOrDefault("pglockwatch_poll_duration_seconds_sum", 0.0),
				values.getOrDefault("pglockwatch_poll_duration_seconds_count", 0.0).longValue(),
				values.getOrDefault("pglockwatch_poll_duration_seconds_max", 0.0),
				values.getOrDefault("pglockwatch_ddl_queue_depth", Double.NaN),
				values.getOrDefault("pglockwatch_poll_bursting", Double.NaN),
				values.getOrDefault("pglockwatch_poll_start_delay_seconds_sum", 0.0),
				values.getOrDefault("pglockwatch_poll_start_delay_seconds_count", 0.0).longValue());
	}

	/** utime + stime of a process in clock ticks (USER_HZ, 100 on Linux), or -1. */
	private static long cpuTicks(long pid) {
		try {
			String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
			String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
			return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
		}
		catch (IOException | RuntimeException ex) {
			return -1;
		}
	}

	private static Path startRecording(ServiceProcess service, String label) throws IOException, InterruptedException {
		Path settings = OUT.resolve("profile-1ms.jfc");
		if (!Files.exists(settings)) {
			String profile = Files.readString(Path.of(System.getProperty("java.home"), "lib", "jfr", "profile.jfc"));
			// denser method samples than profile's 10 / 20 ms: a poll takes milliseconds
			profile = profile.replace("<setting name=\"period\" control=\"method-sampling-java-interval\">10 ms</setting>",
					"<setting name=\"period\" control=\"method-sampling-java-interval\">1 ms</setting>")
				.replace("<setting name=\"period\" control=\"method-sampling-native-interval\">20 ms</setting>",
						"<setting name=\"period\" control=\"method-sampling-native-interval\">2 ms</setting>");
			Files.writeString(settings, profile);
		}
		Path recording = OUT.resolve(label + ".jfr").toAbsolutePath();
		jcmd(service, "JFR.start", "name=livepoll", "settings=" + settings.toAbsolutePath(), "filename=" + recording);
		return recording;
	}

	private static void stopRecording(ServiceProcess service, String label) throws IOException, InterruptedException {
		jcmd(service, "JFR.stop", "name=livepoll");
	}

	private static void jcmd(ServiceProcess service, String... command) throws IOException, InterruptedException {
		List<String> line = new ArrayList<>();
		line.add(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString());
		line.add(Long.toString(service.pid()));
		line.addAll(List.of(command));
		Process process = new ProcessBuilder(line).redirectErrorStream(true).start();
		String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
			throw new IllegalStateException("jcmd " + String.join(" ", command) + ": " + output);
		}
	}

	/**
	 * Where the poll threads' samples are: top frames, the project's methods anywhere on the stack (inclusive), and
	 * for the other threads their share of the samples; the poll threads' sampled allocation by top frame.
	 */
	private static void summarise(Path recording, String label) throws IOException {
		Map<String, Integer> selfPoll = new HashMap<>();
		Map<String, Integer> inclusivePoll = new HashMap<>();
		Map<String, Integer> nativePoll = new HashMap<>();
		Map<String, Integer> threads = new HashMap<>();
		Map<String, Long> allocation = new HashMap<>();
		int pollSamples = 0;
		int allSamples = 0;
		int nativeSamples = 0;
		long allocated = 0;
		long gcPauseNanos = 0;
		int gcs = 0;
		for (RecordedEvent event : RecordingFile.readAllEvents(recording)) {
			String type = event.getEventType().getName();
			if (type.equals("jdk.GarbageCollection")) {
				gcPauseNanos += event.getDuration("sumOfPauses").toNanos();
				gcs++;
				continue;
			}
			boolean sample = type.equals("jdk.ExecutionSample");
			boolean nativeSample = type.equals("jdk.NativeMethodSample");
			boolean allocationSample = type.equals("jdk.ObjectAllocationSample");
			if (!sample && !nativeSample && !allocationSample) {
				continue;
			}
			String thread = threadName(event, sample || nativeSample ? "sampledThread" : "eventThread");
			boolean poll = thread.startsWith("pglockwatch-poll-");
			RecordedStackTrace stack = event.getStackTrace();
			if (sample) {
				allSamples++;
				threads.merge(thread.replaceAll("-?\\d+$", "-*"), 1, Integer::sum);
			}
			if (!poll || stack == null || stack.getFrames().isEmpty()) {
				continue;
			}
			List<RecordedFrame> frames = stack.getFrames();
			if (sample) {
				pollSamples++;
				selfPoll.merge(frame(frames.get(0)), 1, Integer::sum);
				frames.stream()
					.filter((f) -> f.getMethod().getType().getName().startsWith("io.pglockwatch"))
					.map(LivePollCostBenchmark::method)
					.distinct()
					.forEach((m) -> inclusivePoll.merge(m, 1, Integer::sum));
			}
			else if (nativeSample) {
				nativeSamples++;
				nativePoll.merge(frames.stream()
					.filter((f) -> f.getMethod().getType().getName().startsWith("io.pglockwatch"))
					.findFirst()
					.map(LivePollCostBenchmark::method)
					.orElse(frame(frames.get(0))), 1, Integer::sum);
			}
			else {
				long weight = event.getLong("weight");
				allocated += weight;
				allocation.merge(frames.stream()
					.filter((f) -> f.getMethod().getType().getName().startsWith("io.pglockwatch"))
					.findFirst()
					.map(LivePollCostBenchmark::method)
					.orElse(frame(frames.get(0))), weight, Long::sum);
			}
		}
		Path summary = OUT.resolve(label + "-profile.txt");
		StringBuilder text = new StringBuilder();
		text.append(String.format(Locale.ROOT, "Profile %s (%s): %d Java samples of which %d on poll threads; %d native samples "
				+ "on poll threads (waiting in the driver); GC: %d collections, %.1f ms of pauses; poll threads allocated "
				+ "about %.1f MB (sampled weight)%n", label, recording, allSamples, pollSamples, nativeSamples, gcs,
				gcPauseNanos / 1e6, allocated / 1e6));
		top(text, "Poll threads, top frames (self)", selfPoll, pollSamples, 15);
		top(text, "Poll threads, project methods on the stack (inclusive)", inclusivePoll, pollSamples, 25);
		top(text, "Poll threads, native samples by innermost project method", nativePoll, nativeSamples, 8);
		top(text, "All Java samples by thread", threads, allSamples, 12);
		Map<String, Integer> alloc = new HashMap<>();
		long total = Math.max(1, allocated);
		allocation.forEach((k, v) -> alloc.put(k, (int) (v * 1000 / total)));
		top(text, "Poll threads' allocation by innermost project method (per mille)", alloc, 1000, 10);
		Files.writeString(summary, text);
		System.out.print(text);
	}

	private static String threadName(RecordedEvent event, String field) {
		try {
			var thread = event.getThread(field);
			return (thread == null || thread.getJavaName() == null) ? "?" : thread.getJavaName();
		}
		catch (IllegalArgumentException ex) {
			return "?";
		}
	}

	private static void top(StringBuilder text, String title, Map<String, Integer> counts, int total, int limit) {
		text.append(title).append(':').append(System.lineSeparator());
		counts.entrySet()
			.stream()
			.sorted(Map.Entry.<String, Integer>comparingByValue(Comparator.reverseOrder()))
			.limit(limit)
			.forEach((e) -> text.append(String.format(Locale.ROOT, "  %5.1f%%  %s%n", 100.0 * e.getValue() / Math.max(1, total),
					e.getKey())));
	}

	private static String frame(RecordedFrame frame) {
		return method(frame) + ":" + frame.getLineNumber();
	}

	private static String method(RecordedFrame frame) {
		String type = frame.getMethod().getType().getName();
		return type.substring(type.lastIndexOf('.') + 1) + "." + frame.getMethod().getName();
	}

	private static void print(PostgresServer server, List<Result> results, String loadBefore) {
		System.out.println();
		System.out.printf(Locale.ROOT, "Live poll vs bare reads, PostgreSQL %d (%s); nproc %d, %s; load average before %s, "
				+ "after %s; Java %s; warm-up %d s, window %d s; bare reads every %d ms%n", server.majorVersion(),
				server.backendKind(), Runtime.getRuntime().availableProcessors(), cpuModel(), loadBefore, loadAverage(),
				System.getProperty("java.version"), WARM_UP.toSeconds(), WINDOW.toSeconds(), BARE_EVERY.toMillis());
		System.out.println();
		System.out.println(Result.HEADER);
		System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|");
		results.forEach((r) -> System.out.println(r.row()));
		System.out.println();
		System.out.println("goal: live poll mean <= 2x the bare reads' mean at N = 250, <= 1.5x at N = 1000");
	}

	private static Duration duration(String text) {
		if (text.equals("0")) {
			return Duration.ZERO;
		}
		return org.springframework.boot.convert.DurationStyle.detectAndParse(text);
	}

	private static String cpuModel() {
		try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
			return lines.filter((l) -> l.startsWith("model name"))
				.findFirst()
				.map((l) -> l.substring(l.indexOf(':') + 1).trim())
				.orElse("unknown CPU");
		}
		catch (IOException | UncheckedIOException ex) {
			return "unknown CPU";
		}
	}

	private static String loadAverage() {
		try {
			return String.join(" / ", Arrays.asList(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+"))
				.subList(0, 3));
		}
		catch (IOException | RuntimeException ex) {
			return "unknown";
		}
	}

	private record Metrics(double sum, long count, double max, double queueDepth, double bursting, double delaySum,
			long delayCount) {
	}

	private static final class Samples {

		final List<Long> activity = new ArrayList<>();

		final List<Long> locks = new ArrayList<>();

		final List<Long> pair = new ArrayList<>();

		double mean(List<Long> values) {
			return values.stream().mapToLong(Long::longValue).average().orElse(Double.NaN) / 1e6;
		}

		double p50(List<Long> values) {
			long[] sorted = values.stream().mapToLong(Long::longValue).sorted().toArray();
			return (sorted.length == 0) ? Double.NaN : sorted[sorted.length / 2] / 1e6;
		}

	}

	private record Result(int n, Duration burst, long polls, double pollsPerSecond, double liveMs, double startDelayMs,
			double liveMaxMs,
			double bareMs, double bareP50, double activityMs, double locksMs, int bareCount, double queueDepth,
			double serviceCpu) {

		static final String HEADER = "| N queued | burst interval | live polls (per s) | live poll mean (ms) | of which start delay (ms) "
				+ "| live poll max (ms) "
				+ "| bare reads mean (ms) | bare reads p50 (ms) | of which pg_stat_activity / pg_locks (ms) | bare pairs "
				+ "| ratio live / bare (mean) | service CPU (% of one core) |";

		String row() {
			return String.format(Locale.ROOT, "| %d | %s | %d (%.1f) | %.2f | %.2f | %.1f | %.2f | %.2f | %.2f / %.2f | %d | %.2fx | %.1f |",
					this.n, this.burst.isZero() ? "off" : this.burst.toMillis() + " ms", this.polls, this.pollsPerSecond,
					this.liveMs, this.startDelayMs, this.liveMaxMs, this.bareMs, this.bareP50, this.activityMs, this.locksMs, this.bareCount,
					this.liveMs / this.bareMs, this.serviceCpu);
		}

	}

}
