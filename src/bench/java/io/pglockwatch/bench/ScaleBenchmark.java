package io.pglockwatch.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import com.sun.management.OperatingSystemMXBean;
import io.pglockwatch.PgLockwatchApplication;
import io.pglockwatch.poll.PollListener;
import io.pglockwatch.poll.PollOutcome;
import io.pglockwatch.testsupport.LockScenario;
import io.pglockwatch.testsupport.PostgresServer;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * One pg-lockwatch instance watching many targets, each polled every second: how late polls start (the gap between
 * a target's scheduled tick and its poll starting on a worker), how long they take, how many ticks are skipped
 * because a poll overran, and what the instance costs in CPU and heap. The targets are databases of one local
 * PostgreSQL server, each a target of its own with its own session, as they would be on separate servers.
 * <p>
 * Each size runs twice: quiet (nobody waits for a lock) and with a bad day on the server (an ALTER TABLE waiting
 * behind an idle transaction with 20 sessions queued) that every target sees, since pg_locks shows the whole
 * cluster: each poll then reads, graphs and detects the queue and every target has an open incident recorded once
 * per poll.
 * <p>
 * Run with {@code bench/scale.sh [targets...]} (default 100 300); the machine is shared by the instance and the
 * PostgreSQL server, so the server's CPU is reported too.
 */
public final class ScaleBenchmark {

	private static final int DATABASES = 10;

	private static final Duration WARM_UP = Duration.ofSeconds(15);

	private static final Duration WINDOW = Duration.ofSeconds(Long.getLong("bench.window-seconds", 45));

	private ScaleBenchmark() {
	}

	public static void main(String[] args) throws Exception {
		try {
			int[] sizes = args.length > 0 ? Arrays.stream(args).mapToInt(Integer::parseInt).toArray() : new int[] { 100, 300 };
			PostgresServer server = PostgresServer.shared();
			for (int d = 1; d <= DATABASES; d++) {
				server.createDatabase(database(d));
			}
			server.installFixtures(database(1));
			List<String> rows = new ArrayList<>();
			for (int targets : sizes) {
				rows.add(run(server, targets, false));
				rows.add(run(server, targets, true));
			}
			System.out.println();
			System.out.printf("One instance, targets polled every 1 s, %d cores (%s), JVM %s, max heap %d MB; "
					+ "PostgreSQL %d on the same machine; %d s measured after %d s warm-up%n",
					Runtime.getRuntime().availableProcessors(), cpuModel(), System.getProperty("java.version"),
					Runtime.getRuntime().maxMemory() >> 20, server.majorVersion(), WINDOW.toSeconds(), WARM_UP.toSeconds());
			System.out.println();
			System.out.println("| targets | lock state | polls/s | start delay p50 / p99 / max (ms) | poll duration p50 / p99 (ms) "
					+ "| overruns | failed polls | instance CPU (% of one core) | PostgreSQL CPU (% of one core) "
					+ "| heap used max / after GC (MB) | threads |");
			System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
			rows.forEach(System.out::println);
			System.out.println();
			System.out.println("goal: start delay p99 < 200 ms at 100 targets");
		}
		finally {
			PostgresServer.closeShared();
		}
	}

	private static String database(int d) {
		return String.format(Locale.ROOT, "scale_%02d", d);
	}

	private static String run(PostgresServer server, int targets, boolean badDay) throws Exception {
		List<String> properties = new ArrayList<>(List.of("--spring.main.web-application-type=none",
				"--spring.main.banner-mode=off", "--logging.level.root=WARN", "--logging.level.io.pglockwatch=ERROR",
				"--spring.datasource.url=jdbc:h2:mem:scale" + targets + badDay + ";DB_CLOSE_DELAY=-1"));
		for (int t = 0; t < targets; t++) {
			String prefix = "--pglockwatch.targets[" + t + "].";
			properties.add(prefix + "name=t" + t);
			properties.add(prefix + "url=" + server.jdbcUrl(database(1 + t % DATABASES)));
			properties.add(prefix + "username=" + server.superuser());
			properties.add(prefix + "password=" + server.password());
		}
		LockScenario scenario = badDay ? badDay(server) : null;
		Recorder recorder = new Recorder();
		try (ConfigurableApplicationContext app = new SpringApplicationBuilder(PgLockwatchApplication.class)
			.initializers((context) -> context.getBeanFactory().registerSingleton("benchRecorder", recorder))
			.run(properties.toArray(String[]::new))) {
			Thread.sleep(WARM_UP.toMillis());
			OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
			MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
			long cpu0 = os.getProcessCpuTime();
			long pg0 = postgresCpuTicks();
			long wall0 = System.nanoTime();
			recorder.start();
			long heapMax = 0;
			while (System.nanoTime() - wall0 < WINDOW.toNanos()) {
				Thread.sleep(250);
				heapMax = Math.max(heapMax, memory.getHeapMemoryUsage().getUsed());
			}
			recorder.stop();
			double wall = (System.nanoTime() - wall0) / 1e9;
			double cpu = (os.getProcessCpuTime() - cpu0) / 1e9 / wall * 100;
			double pgCpu = (postgresCpuTicks() - pg0) / 100.0 / wall * 100; // USER_HZ = 100
			System.gc();
			long heapAfterGc = memory.getHeapMemoryUsage().getUsed();
			int threads = ManagementFactory.getThreadMXBean().getThreadCount();
			double[] delays = recorder.delays();
			double[] durations = recorder.durations();
			String row = String.format(Locale.ROOT,
					"| %d | %s | %.1f | %.1f / %.1f / %.1f | %.1f / %.1f | %d | %d | %.0f | %.0f | %d / %d | %d |", targets,
					badDay ? "DDL queue of 20 seen by every target" : "quiet", delays.length / wall, percentile(delays, 50),
					percentile(delays, 99), percentile(delays, 100), percentile(durations, 50), percentile(durations, 99),
					recorder.overruns.get(), recorder.failures.get(), cpu, pgCpu, heapMax >> 20, heapAfterGc >> 20, threads);
			System.out.println(row);
			return row;
		}
		finally {
			if (scenario != null) {
				scenario.close();
			}
		}
	}

	private static LockScenario badDay(PostgresServer server) throws Exception {
		try (Connection c = server.connect(database(1), "bench-setup"); Statement s = c.createStatement()) {
			s.execute("DROP TABLE IF EXISTS scale_users; CREATE TABLE scale_users (id int PRIMARY KEY)");
		}
		LockScenario scenario = new LockScenario(server, database(1), "scale");
		scenario.stageDdlQueue("scale_users", "ADD COLUMN note text", 20);
		return scenario;
	}

	/** utime + stime, in clock ticks, of every process named postgres on the machine. */
	private static long postgresCpuTicks() throws IOException {
		long ticks = 0;
		try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
			for (Path process : processes.filter((p) -> p.getFileName().toString().matches("\\d+")).toList()) {
				try {
					String stat = Files.readString(process.resolve("stat"));
					int close = stat.lastIndexOf(')');
					if (!stat.substring(stat.indexOf('(') + 1, close).equals("postgres")) {
						continue;
					}
					String[] fields = stat.substring(close + 2).split(" ");
					ticks += Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime
				}
				catch (IOException | RuntimeException ex) {
					// the process ended meanwhile
				}
			}
		}
		return ticks;
	}

	private static String cpuModel() {
		try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
			return lines.filter((l) -> l.startsWith("model name")).findFirst().map((l) -> l.substring(l.indexOf(':') + 1).trim())
				.orElse("unknown CPU");
		}
		catch (IOException ex) {
			return "unknown CPU";
		}
	}

	private static double percentile(double[] values, int p) {
		if (values.length == 0) {
			return Double.NaN;
		}
		double[] sorted = values.clone();
		Arrays.sort(sorted);
		int index = (int) Math.ceil(sorted.length * p / 100.0) - 1;
		return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
	}

	/** Records every poll's start delay and duration while measuring. */
	static final class Recorder implements PollListener {

		private final ConcurrentLinkedQueue<double[]> samples = new ConcurrentLinkedQueue<>();

		final AtomicLong overruns = new AtomicLong();

		final AtomicLong failures = new AtomicLong();

		private volatile boolean recording;

		void start() {
			this.recording = true;
		}

		void stop() {
			this.recording = false;
		}

		@Override
		public void onPoll(PollOutcome outcome) {
			if (!this.recording) {
				return;
			}
			this.samples.add(new double[] { outcome.startDelay().toNanos() / 1e6, outcome.duration().toNanos() / 1e6 });
			this.overruns.addAndGet(outcome.overruns());
			if (!outcome.succeeded()) {
				this.failures.incrementAndGet();
			}
		}

		double[] delays() {
			return this.samples.stream().mapToDouble((s) -> s[0]).toArray();
		}

		double[] durations() {
			return this.samples.stream().mapToDouble((s) -> s[1]).toArray();
		}

	}

}
