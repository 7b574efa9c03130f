package io.pglockwatch.bench;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.pglockwatch.PgLockwatchApplication;
import io.pglockwatch.graph.DdlQueue;
import io.pglockwatch.poll.PollListener;
import io.pglockwatch.poll.TargetState;
import io.pglockwatch.poll.TargetStatus;
import io.pglockwatch.testsupport.LockScenario;
import io.pglockwatch.testsupport.PostgresServer;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The observer effect: pgbench's default TPC-B-like write workload ({@code pgbench -n -c 4 -j 2 -M prepared}, scale
 * 10) on a real embedded PostgreSQL while the ALTER TABLE incident is staged for real in the same database (an
 * idle-in-transaction reader, {@code ALTER TABLE ... ADD COLUMN} waiting for ACCESS EXCLUSIVE and 500 SELECTs
 * queued behind it, on a table pgbench does not touch), unobserved versus observed by the real pg-lockwatch service
 * polling that database every 1 s. Each round runs one phase of each, alternating which goes first (AB BA AB ...)
 * so that drift cancels out; the observed phase starts the service in-process before the phase, waits for two polls
 * that see the 500-deep queue, and closes it afterwards. Every phase starts on freshly initialised pgbench tables,
 * because the queued sessions hold back the database's xmin horizon (see {@code prepare}). Goal: observed tps at
 * least 98% of unobserved tps.
 *
 * <p>Two placements: {@code pinned} (default where {@code taskset} exists) puts PostgreSQL and pgbench on CPU 0 and
 * this JVM, with the service, on CPU 1, as in production where the monitor runs on a machine of its own and the
 * database pays only for answering its polls; {@code shared} lets everything share every CPU, so the service's own
 * CPU also comes out of pgbench's.
 *
 * <p>Run with {@code bench/observer-effect.sh [rounds] [seconds-per-phase] [pinned|shared]} (default 5 rounds of 20 s
 * phases, pinned), which finds or installs pgbench and passes its path as {@value #PGBENCH_PROPERTY}.
 */
public final class ObserverEffectBenchmark {

	/** The pgbench executable; {@code pgbench} on the PATH when unset. */
	static final String PGBENCH_PROPERTY = "observer-effect.pgbench";

	private static final String DATABASE = "pgbench";
	private static final String QUEUE_TABLE = "observer_queue";
	private static final String TARGET = "bench";
	private static final int SCALE = 10;
	/** Sessions queued behind the ALTER TABLE: the fourth argument, 500 when not given. */
	private static int QUEUED = 500;
	private static final int CLIENTS = 4;
	private static final int THREADS = 2;
	private static final Duration SETTLE = Duration.ofSeconds(2);
	private static final Duration FIRST_POLLS_TIMEOUT = Duration.ofSeconds(60);
	private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+) \\(without initial connection time\\)");
	private static final Pattern FAILED = Pattern.compile("number of failed transactions: (\\d+)");
	private static final Pattern PROCESSED = Pattern.compile("number of transactions actually processed: (\\d+)");
	private static final Pattern LATENCY = Pattern.compile("latency average = ([0-9.]+) ms");

	private ObserverEffectBenchmark() {
	}

	public static void main(String[] args) throws Exception {
		try {
			int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
			int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
			String pgbench = System.getProperty(PGBENCH_PROPERTY, "pgbench");
			PostgresServer server = PostgresServer.shared();
			server.createDatabase(DATABASE);
			pinned = (args.length > 2 && !args[2].isBlank()) ? args[2].equals("pinned") : canPin();
			if (args.length > 3) {
				QUEUED = Integer.parseInt(args[3]);
			}
			if (pinned) {
				pin(server);
			}
			Path logDir = Files.createDirectories(Path.of("target", "observer-effect"));
			String pgbenchVersion = run(List.of(pgbench, "--version"), Map.of(), logDir.resolve("pgbench-version.log")).trim();
			String serverVersion = queryOne(server, "SELECT version()");
			System.out.println("server:  " + server + ": " + serverVersion);
			System.out.println("pgbench: " + pgbenchVersion + " (" + pgbench + ")");
			String loadBefore = loadAverage();
			System.out.println("cores:   " + Runtime.getRuntime().availableProcessors() + ", load before: " + loadBefore);
			try (Connection c = server.connect(DATABASE, "bench-setup");
					Statement s = c.createStatement()) {
				s.execute("DROP TABLE IF EXISTS " + QUEUE_TABLE + "; CREATE TABLE " + QUEUE_TABLE + " (id int PRIMARY KEY)");
			}
			List<Round> results = new ArrayList<>();
			List<Double> pollMillis = new ArrayList<>();
			int minDepth = Integer.MAX_VALUE;
			int maxDepth = 0;
			int failedPolls = 0;
			try (LockScenario scenario = new LockScenario(server, DATABASE, "obs")) {
				long staged = System.nanoTime();
				scenario.stageDdlQueue(QUEUE_TABLE, "ADD COLUMN note text", QUEUED);
				System.out.printf("staged: 1 holder, 1 ALTER TABLE waiting, %d SELECTs queued behind it (%.1f s); %d sessions in "
						+ "%s hold back the xmin horizon, so pgbench's dead rows pile up: the pgbench tables are re-initialised "
						+ "(pgbench -i -s %d, not timed) before every phase%n", QUEUED, (System.nanoTime() - staged) / 1e9,
						xminHolders(server), DATABASE, SCALE);
				Phase warmUp = unobserved(server, scenario, pgbench, Math.min(seconds, 10), logDir.resolve("warm-up.log"));
				System.out.printf("warm-up (not counted): %.1f tps%n", warmUp.tps);
				for (int round = 1; round <= rounds; round++) {
					boolean observedFirst = round % 2 == 0;
					Phase unobserved = null;
					Phase observed = null;
					for (int i = 0; i < 2; i++) {
						boolean observe = (i == 0) == observedFirst;
						Path log = logDir.resolve("round" + round + "-" + (observe ? "observed" : "unobserved") + ".log");
						if (observe) {
							observed = observed(server, scenario, pgbench, seconds, log);
						}
						else {
							unobserved = unobserved(server, scenario, pgbench, seconds, log);
						}
						Phase phase = observe ? observed : unobserved;
						System.out.printf("round %d %-10s %8.1f tps  %7d xacts  lat %6.2f ms  failed %d  JVM cpu %5.2f s  load %s%s%n",
								round, observe ? "observed" : "unobserved", phase.tps, phase.transactions, phase.latencyMillis,
								phase.failedTransactions, phase.jvmCpuSeconds, phase.loadAfter,
								observe ? String.format("  polls %d (timer +%d), median %.1f ms, queue depth %d..%d, failed %d",
										phase.polls.size(), phase.timerPolls, median(phase.pollMillis()), phase.minDepth(),
										phase.maxDepth(), phase.failedPolls()) : "");
					}
					results.add(new Round(round, observedFirst ? "O-U" : "U-O", unobserved, observed));
					pollMillis.addAll(observed.pollMillis());
					minDepth = Math.min(minDepth, observed.minDepth());
					maxDepth = Math.max(maxDepth, observed.maxDepth());
					failedPolls += observed.failedPolls();
				}
			}
			String loadAfter = loadAverage();
			List<Double> unobservedTps = results.stream().map((r) -> r.unobserved.tps).toList();
			List<Double> observedTps = results.stream().map((r) -> r.observed.tps).toList();
			List<Double> ratios = results.stream().map((r) -> r.observed.tps / r.unobserved.tps).toList();
			double ratioOfMedians = median(observedTps) / median(unobservedTps);
			System.out.println();
			System.out.println(pinned ? "placement: pinned (PostgreSQL and pgbench on CPU 0, pg-lockwatch on CPU 1)"
					: "placement: shared (PostgreSQL, pgbench and pg-lockwatch on every CPU)");
			System.out.printf("Observer effect: pgbench -n -c %d -j %d -T %d -M prepared (TPC-B-like, scale %d) with %d sessions "
					+ "queued behind a waiting ALTER TABLE in the same database,%nunobserved vs observed by pg-lockwatch polling "
					+ "every 1 s; %d interleaved rounds (U-O = unobserved first, O-U = observed first), pgbench tables "
					+ "re-initialised before every phase%n", CLIENTS, THREADS, seconds, SCALE, QUEUED, rounds);
			System.out.println("goal: observed >= 98% of unobserved tps");
			System.out.println();
			System.out.println("| round | order | unobserved tps | observed tps | observed/unobserved |");
			System.out.println("|---|---|---|---|---|");
			for (Round r : results) {
				System.out.printf("| %d | %s | %.1f | %.1f | %.2f%% |%n", r.number, r.order, r.unobserved.tps, r.observed.tps,
						100 * r.observed.tps / r.unobserved.tps);
			}
			System.out.printf("| median | | %.1f | %.1f | %.2f%% (ratio of medians) |%n", median(unobservedTps),
					median(observedTps), 100 * ratioOfMedians);
			System.out.println();
			System.out.printf("mean of per-round ratios: %.2f%% (min %.2f%%, max %.2f%%)%n",
					100 * ratios.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN),
					100 * ratios.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN),
					100 * ratios.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN));
			System.out.printf("pg-lockwatch during observed phases: %d polls, poll duration median %.1f ms, p90 %.1f ms, max %.1f "
					+ "ms, failed polls %d; deepest DDL queue seen: %d..%d sessions%n", pollMillis.size(), median(pollMillis),
					percentile(pollMillis, 0.9), pollMillis.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN),
					failedPolls, minDepth, maxDepth);
			System.out.printf("goal >= 98%% of unobserved tps: %s (ratio of medians %.2f%%)%n",
					ratioOfMedians >= 0.98 ? "met" : "NOT met", 100 * ratioOfMedians);
			System.out.println("load average (1/5/15 min) before: " + loadBefore + ", after: " + loadAfter + "; pgbench output in "
					+ logDir);
		}
		finally {
			PostgresServer.closeShared();
		}
	}

	private static Phase unobserved(PostgresServer server, LockScenario scenario, String pgbench, int seconds, Path log)
			throws Exception {
		prepare(server, scenario, pgbench, log);
		return workload(server, pgbench, seconds, log);
	}

	private static Phase observed(PostgresServer server, LockScenario scenario, String pgbench, int seconds, Path log)
			throws Exception {
		prepare(server, scenario, pgbench, log);
		ConcurrentLinkedQueue<Poll> polls = new ConcurrentLinkedQueue<>();
		PollListener recorder = (outcome) -> polls.add(new Poll(outcome.succeeded(), outcome.duration().toNanos() / 1e6,
				outcome.succeeded() ? depth(outcome.graph().deepestDdlQueue()) : 0));
		try (ConfigurableApplicationContext app = new SpringApplicationBuilder(PgLockwatchApplication.class)
			.initializers((context) -> context.getBeanFactory()
				.registerSingleton("observerEffectPollRecorder", recorder))
			.run("--spring.main.web-application-type=none", "--spring.main.banner-mode=off", "--logging.level.root=WARN",
					"--logging.level.io.pglockwatch=WARN", "--spring.datasource.url=jdbc:h2:mem:obs;DB_CLOSE_DELAY=-1",
					"--pglockwatch.poll.interval=1s", "--pglockwatch.guard.mode=off",
					"--pglockwatch.targets[0].name=" + TARGET,
					"--pglockwatch.targets[0].url=" + server.jdbcUrl(DATABASE),
					"--pglockwatch.targets[0].username=" + server.superuser(),
					"--pglockwatch.targets[0].password=" + server.password())) {
			awaitQueueSeen(app.getBean(TargetStatus.class), polls);
			Timer timer = app.getBean(MeterRegistry.class).find("pglockwatch.poll.duration").tag("target", TARGET).timer();
			long timerBefore = timer == null ? 0 : timer.count();
			polls.clear();
			Phase phase = workload(server, pgbench, seconds, log);
			phase.polls = List.copyOf(polls);
			phase.timerPolls = timer == null ? -1 : timer.count() - timerBefore;
			if (phase.maxDepth() < QUEUED) {
				throw new IllegalStateException("pg-lockwatch did not see the " + QUEUED + "-deep DDL queue during the phase: "
						+ phase.polls.size() + " polls, deepest " + phase.maxDepth());
			}
			return phase;
		}
	}

	/** Waits until the service has polled twice with success and its latest graph shows the whole queue. */
	private static void awaitQueueSeen(TargetStatus status, ConcurrentLinkedQueue<Poll> polls) throws Exception {
		long deadline = System.nanoTime() + FIRST_POLLS_TIMEOUT.toNanos();
		while (true) {
			TargetState state = status.get(TARGET);
			long succeeded = polls.stream().filter(Poll::succeeded).count();
			int depth = depth(state.freshGraph() == null ? null : state.freshGraph().deepestDdlQueue());
			if (succeeded >= 2 && depth >= QUEUED) {
				return;
			}
			if (System.nanoTime() > deadline) {
				throw new IllegalStateException("pg-lockwatch did not see the " + QUEUED + "-deep DDL queue within "
						+ FIRST_POLLS_TIMEOUT.toSeconds() + " s: " + succeeded + " successful polls, deepest queue " + depth
						+ ", state " + state.up() + " " + state.error());
			}
			Thread.sleep(50);
		}
	}

	/**
	 * Not timed: checks the incident is still staged, re-creates the pgbench tables, checkpoints and lets the machine
	 * settle. The re-creation gives every phase the same start: the staged queue holds back the xmin horizon of the
	 * database (the waiting ALTER and SELECTs each hold a snapshot), so no dead row pgbench makes can be pruned or
	 * vacuumed while it lasts, and tps on tables that carry all earlier phases' dead rows falls by several times
	 * within minutes, far more than the effect measured here.
	 */
	private static void prepare(PostgresServer server, LockScenario scenario, String pgbench, Path log) throws Exception {
		scenario.awaitLockWaiters(QUEUED + 1, Duration.ofSeconds(10));
		run(pgbenchCommand(server, pgbench, "-i", "-s", Integer.toString(SCALE), "-q"), pgEnvironment(server),
				log.resolveSibling(log.getFileName().toString().replace(".log", "-init.log")));
		try (Connection c = server.connect(DATABASE, "bench-setup");
				Statement s = c.createStatement()) {
			s.execute("CHECKPOINT");
		}
		Thread.sleep(SETTLE.toMillis());
	}

	/** Sessions of the staged incident that hold a snapshot, and with it the database's xmin horizon. */
	private static int xminHolders(PostgresServer server) throws Exception {
		try (Connection c = server.connect(DATABASE, "bench-setup");
				Statement s = c.createStatement();
				ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + DATABASE
						+ "' AND starts_with(application_name, 'obs_') AND backend_xmin IS NOT NULL")) {
			rs.next();
			return rs.getInt(1);
		}
	}

	private static Phase workload(PostgresServer server, String pgbench, int seconds, Path log) throws Exception {
		long cpuBefore = processCpuNanos();
		String output = run(pgbenchCommand(server, pgbench, "-n", "-c", Integer.toString(CLIENTS), "-j",
				Integer.toString(THREADS), "-T", Integer.toString(seconds), "-M", "prepared"), pgEnvironment(server), log);
		Phase phase = new Phase();
		phase.jvmCpuSeconds = (processCpuNanos() - cpuBefore) / 1e9;
		phase.loadAfter = loadAverage();
		phase.tps = Double.parseDouble(find(TPS, output, log));
		phase.transactions = Long.parseLong(find(PROCESSED, output, log));
		phase.latencyMillis = Double.parseDouble(find(LATENCY, output, log));
		Matcher failed = FAILED.matcher(output);
		phase.failedTransactions = failed.find() ? Long.parseLong(failed.group(1)) : 0;
		return phase;
	}

	private static String queryOne(PostgresServer server, String sql) throws Exception {
		try (Connection c = server.connect(DATABASE, "bench-setup");
				Statement s = c.createStatement();
				ResultSet rs = s.executeQuery(sql)) {
			rs.next();
			return rs.getString(1);
		}
	}

	/** Whether PostgreSQL and pgbench run on CPU 0 and this JVM on CPU 1. */
	private static boolean pinned;

	private static boolean canPin() {
		return Runtime.getRuntime().availableProcessors() >= 2 && Files.isExecutable(Path.of("/usr/bin/taskset"));
	}

	/** The postmaster and its processes (later backends inherit it) to CPU 0; every thread of this JVM to CPU 1. */
	private static void pin(PostgresServer server) throws Exception {
		String dataDirectory = queryOne(server, "SHOW data_directory");
		Files.createDirectories(Path.of("target", "observer-effect"));
		long postmaster = Long.parseLong(Files.readAllLines(Path.of(dataDirectory, "postmaster.pid")).get(0).trim());
		List<Long> pids = new ArrayList<>(List.of(postmaster));
		try (var processes = Files.list(Path.of("/proc"))) {
			for (Path process : processes.filter((p) -> p.getFileName().toString().matches("\\d+")).toList()) {
				try {
					String stat = Files.readString(process.resolve("stat"));
					if (Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1]) == postmaster) {
						pids.add(Long.valueOf(process.getFileName().toString()));
					}
				}
				catch (IOException | RuntimeException ex) {
					// ended meanwhile
				}
			}
		}
		for (long pid : pids) {
			run(List.of("taskset", "-a", "-p", "-c", "0", Long.toString(pid)), Map.of(),
					Path.of("target", "observer-effect", "taskset.log"));
		}
		run(List.of("taskset", "-a", "-p", "-c", "1", Long.toString(ProcessHandle.current().pid())), Map.of(),
				Path.of("target", "observer-effect", "taskset.log"));
	}

	private static List<String> pgbenchCommand(PostgresServer server, String pgbench, String... options) {
		List<String> command = new ArrayList<>();
		if (pinned) {
			command.addAll(List.of("taskset", "-c", "0"));
		}
		command.addAll(List.of(pgbench, "-h", server.host(), "-p", Integer.toString(server.port()), "-U",
				server.superuser()));
		command.addAll(List.of(options));
		command.add(DATABASE);
		return command;
	}

	/** The password goes to pgbench through the environment, never on its command line. */
	private static Map<String, String> pgEnvironment(PostgresServer server) {
		return Map.of("PGPASSWORD", server.password());
	}

	/** Runs a command to its end, keeps its output in the log file and returns it; fails on a non-zero exit. */
	private static String run(List<String> command, Map<String, String> environment, Path log) throws Exception {
		ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
		builder.environment().putAll(environment);
		Process process;
		try {
			process = builder.start();
		}
		catch (IOException e) {
			throw new IllegalStateException("could not run " + command.get(0) + " (set -D" + PGBENCH_PROPERTY
					+ " or put pgbench on the PATH; bench/observer-effect.sh finds or installs it)", e);
		}
		if (!process.waitFor(30, TimeUnit.MINUTES)) {
			process.destroyForcibly();
			throw new IllegalStateException(String.join(" ", command) + " did not finish; output in " + log);
		}
		String output = Files.readString(log, StandardCharsets.UTF_8);
		if (process.exitValue() != 0) {
			throw new IllegalStateException(String.join(" ", command) + " exited with " + process.exitValue() + ":\n" + output);
		}
		return output;
	}

	private static String find(Pattern pattern, String output, Path log) {
		Matcher matcher = pattern.matcher(output);
		if (!matcher.find()) {
			throw new IllegalStateException("no '" + pattern.pattern() + "' in the pgbench output " + log + ":\n" + output);
		}
		return matcher.group(1);
	}

	private static int depth(DdlQueue queue) {
		return queue == null ? 0 : queue.queueDepth();
	}

	private static long processCpuNanos() {
		return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
	}

	private static String loadAverage() {
		try {
			String[] fields = Files.readString(new File("/proc/loadavg").toPath()).trim().split("\\s+");
			return fields[0] + " " + fields[1] + " " + fields[2];
		}
		catch (IOException e) {
			return String.format(Locale.ROOT, "%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
		}
	}

	private static double median(List<Double> values) {
		return percentile(values, 0.5);
	}

	/** Linear interpolation between the closest ranks; NaN for no values. */
	private static double percentile(List<Double> values, double p) {
		if (values.isEmpty()) {
			return Double.NaN;
		}
		List<Double> sorted = values.stream().sorted(Comparator.naturalOrder()).toList();
		double rank = p * (sorted.size() - 1);
		int below = (int) Math.floor(rank);
		int above = (int) Math.ceil(rank);
		return sorted.get(below) + (rank - below) * (sorted.get(above) - sorted.get(below));
	}

	private record Round(int number, String order, Phase unobserved, Phase observed) {
	}

	/** What the recorder keeps of one poll of the service: the graph itself is not retained. */
	private record Poll(boolean succeeded, double millis, int depth) {
	}

	/** One pgbench run; {@link #polls} only for an observed phase. */
	private static final class Phase {

		double tps;
		long transactions;
		double latencyMillis;
		long failedTransactions;
		double jvmCpuSeconds;
		String loadAfter;
		List<Poll> polls = List.of();
		long timerPolls;

		List<Double> pollMillis() {
			return successful().map(Poll::millis).toList();
		}

		int minDepth() {
			return successful().mapToInt(Poll::depth).min().orElse(0);
		}

		int maxDepth() {
			return successful().mapToInt(Poll::depth).max().orElse(0);
		}

		int failedPolls() {
			return (int) this.polls.stream().filter((p) -> !p.succeeded()).count();
		}

		private Stream<Poll> successful() {
			return this.polls.stream().filter(Poll::succeeded);
		}

	}

}
