package io.pglockwatch.bench;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.sun.management.OperatingSystemMXBean;
import io.pglockwatch.PgLockwatchApplication;
import io.pglockwatch.poll.PollListener;
import io.pglockwatch.poll.PollOutcome;
import io.pglockwatch.poll.TargetConnections;
import io.pglockwatch.testsupport.LockScenario;
import io.pglockwatch.testsupport.PostgresServer;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The poll load harness that {@link ScaleBenchmark} and {@link FleetBenchmark} share: one in-process pg-lockwatch
 * watching N targets (databases of one or more local PostgreSQL servers, each target with its own sessions as on
 * separate servers), each polled every second with the service's defaults, quiet or with a DDL queue that every
 * target sees; measured for {@link #WINDOW} after {@link #WARM_UP}.
 * <p>
 * Measured: every poll's start delay (scheduled tick or burst to the poll starting on a worker) and duration, ticks
 * skipped because the poll before was still running, failed polls, the CPU of this JVM and of the PostgreSQL servers'
 * processes, heap (highest in the window and after a full GC), resident memory, live threads and poll workers, and
 * the monitor's sessions open on the servers.
 */
final class PollLoad {

	static final Duration WARM_UP = Duration.ofSeconds(Long.getLong("bench.warm-up-seconds", 15));

	static final Duration WINDOW = Duration.ofSeconds(Long.getLong("bench.window-seconds", 45));

	/** How often the warm-up checks whether the instance has settled. */
	static final Duration SETTLE_CHECK = Duration.ofSeconds(5);

	/** Successful polls per target before the instance counts as settled. */
	static final int SETTLED_POLLS = 6;

	/** Sessions queued behind the ALTER TABLE of the bad day, on every server. */
	static final int QUEUED = 20;

	/** Name prefix of the service's poll worker threads (TargetConfiguration#pollWorkers). */
	static final String POLL_WORKER_PREFIX = "pglockwatch-poll-";

	private PollLoad() {
	}

	/**
	 * Starts the instance with {@code targets} targets and the store at {@code storeUrl} (dropped afterwards), waits
	 * out the warm-up, measures, and stops it; with {@code badDay}, a DDL queue is staged on every server first and
	 * ended afterwards; measures for {@code window}. With a positive {@code maxSettle}, the warm-up goes on after {@link #WARM_UP} until the
	 * instance has settled (see {@link #settled}), for at most that long in all.
	 */
	static Measurement measure(Servers servers, int targets, boolean badDay, String storeUrl, Duration maxSettle,
			Duration window) throws Exception {
		List<String> properties = new ArrayList<>(List.of("--spring.main.web-application-type=none",
				"--spring.main.banner-mode=off", "--logging.level.root=WARN", "--logging.level.io.pglockwatch=ERROR",
				"--spring.datasource.url=" + storeUrl));
		for (int t = 0; t < targets; t++) {
			String prefix = "--pglockwatch.targets[" + t + "].";
			properties.add(prefix + "name=t" + t);
			properties.add(prefix + "url=" + servers.jdbcUrl(t));
			properties.add(prefix + "username=" + servers.superuser());
			properties.add(prefix + "password=" + servers.password());
		}
		if (badDay) {
			servers.stageDdlQueues();
		}
		int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
		Recorder recorder = new Recorder();
		try {
			long started = System.nanoTime();
			try (ConfigurableApplicationContext app = new SpringApplicationBuilder(PgLockwatchApplication.class)
				.initializers((context) -> context.getBeanFactory().registerSingleton("benchRecorder", recorder))
				.run(properties.toArray(String[]::new))) {
				Thread.sleep(WARM_UP.toMillis());
				boolean settled = true;
				if (!maxSettle.isZero() && !maxSettle.isNegative()) {
					settled = false;
					recorder.drain();
					while (!settled && System.nanoTime() - started < maxSettle.toNanos()) {
						Thread.sleep(SETTLE_CHECK.toMillis());
						Recorder.Polls last = recorder.drain();
						settled = settled(last, recorder, targets);
						System.err.printf(Locale.ROOT, "  settling %d targets%s, %.0f s: %d with %d good polls; last %d s: %d "
								+ "polls, start delay p99 %.0f ms, %d ticks skipped%n", targets, badDay ? " (DDL queue)" : "",
								(System.nanoTime() - started) / 1e9, recorder.targetsWithSuccessfulPolls(SETTLED_POLLS),
								SETTLED_POLLS, SETTLE_CHECK.toSeconds(), last.delays().length, percentile(last.delays(), 99),
								last.overruns());
					}
				}
				double warmUp = (System.nanoTime() - started) / 1e9;
				OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
				MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
				long cpu0 = os.getProcessCpuTime();
				long pg0 = servers.cpuTicks();
				long wall0 = System.nanoTime();
				recorder.drain();
				long heapMax = 0;
				int workersMax = 0;
				int connectionsMax = 0;
				long nextConnectionCount = wall0;
				while (System.nanoTime() - wall0 < window.toNanos()) {
					Thread.sleep(250);
					heapMax = Math.max(heapMax, memory.getHeapMemoryUsage().getUsed());
					workersMax = Math.max(workersMax, pollWorkers());
					if (System.nanoTime() - nextConnectionCount >= 0) {
						connectionsMax = Math.max(connectionsMax, servers.monitorConnections());
						nextConnectionCount += Duration.ofSeconds(5).toNanos();
					}
				}
				Recorder.Polls polls = recorder.drain();
				double wall = (System.nanoTime() - wall0) / 1e9;
				double cpu = (os.getProcessCpuTime() - cpu0) / 1e9 / wall * 100;
				double pgCpu = (servers.cpuTicks() - pg0) / 100.0 / wall * 100; // USER_HZ = 100
				int threads = ManagementFactory.getThreadMXBean().getThreadCount();
				int workers = pollWorkers();
				int connections = servers.monitorConnections();
				long rss = residentBytes();
				System.gc();
				long heapAfterGc = memory.getHeapMemoryUsage().getUsed();
				return new Measurement(targets, badDay, warmUp, settled, wall, polls.delays(), polls.durations(),
						polls.overruns(), polls.failures(), cpu, pgCpu, heapMax, heapAfterGc, rss, threadsBefore, threads,
						workers, Math.max(workersMax, workers), connections, Math.max(connectionsMax, connections));
			}
			finally {
				dropStore(storeUrl);
			}
		}
		finally {
			if (badDay) {
				servers.endDdlQueues();
			}
		}
	}

	/**
	 * Whether the instance has settled after its start: every target has had {@value #SETTLED_POLLS} successful polls
	 * (its session is open and pgjdbc has switched the poll to a server-prepared statement, so the server no longer
	 * plans it each time), and the polls of the last check interval kept up with the ticks (start delay p99 under 1 s,
	 * no tick skipped). Until then the target servers' start-up work (a new monitor session costs its server about 80
	 * ms of CPU over its first polls) and the scheduler's catch-up would be measured instead of the steady state.
	 */
	private static boolean settled(Recorder.Polls last, Recorder recorder, int targets) {
		return recorder.targetsWithSuccessfulPolls(SETTLED_POLLS) >= targets && last.delays().length > 0
				&& percentile(last.delays(), 99) < 1000 && last.overruns() == 0;
	}

	/**
	 * Shuts an in-memory H2 store ({@code DB_CLOSE_DELAY=-1}) down, so it does not stay on the heap through the next
	 * runs; a file store closes with the instance's pool.
	 */
	private static void dropStore(String storeUrl) {
		if (!storeUrl.startsWith("jdbc:h2:mem:")) {
			return;
		}
		try (Connection connection = DriverManager.getConnection(storeUrl, "sa", "");
				Statement statement = connection.createStatement()) {
			statement.execute("SHUTDOWN");
		}
		catch (SQLException ex) {
			System.err.println("could not shut down the store " + storeUrl + ": " + ex.getMessage());
		}
	}

	/** Live threads of this JVM whose name starts with {@value #POLL_WORKER_PREFIX}. */
	static int pollWorkers() {
		ThreadGroup root = Thread.currentThread().getThreadGroup();
		while (root.getParent() != null) {
			root = root.getParent();
		}
		Thread[] threads = new Thread[root.activeCount() + 64];
		int count = root.enumerate(threads, true);
		int workers = 0;
		for (int i = 0; i < count; i++) {
			if (threads[i].getName().startsWith(POLL_WORKER_PREFIX)) {
				workers++;
			}
		}
		return workers;
	}

	/** VmRSS of this JVM: the service plus Maven, which runs it through exec:java. */
	static long residentBytes() {
		try (Stream<String> lines = Files.lines(Path.of("/proc/self/status"))) {
			return lines.filter((l) -> l.startsWith("VmRSS:"))
				.findFirst()
				.map((l) -> Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024)
				.orElse(-1L);
		}
		catch (IOException | RuntimeException ex) {
			return -1;
		}
	}

	/** One line on the machine and the JVM, for the table's header. */
	static String describeMachine() {
		String gcs = ManagementFactory.getGarbageCollectorMXBeans()
			.stream()
			.map(GarbageCollectorMXBean::getName)
			.collect(Collectors.joining(", "));
		return String.format(Locale.ROOT, "%d cores (%s), load average %s, JVM %s, max heap %d MB (%s)",
				Runtime.getRuntime().availableProcessors(), cpuModel(), loadAverage(), System.getProperty("java.version"),
				Runtime.getRuntime().maxMemory() >> 20, gcs);
	}

	static String loadAverage() {
		try {
			String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
			return fields[0] + " " + fields[1] + " " + fields[2];
		}
		catch (IOException | RuntimeException ex) {
			return "unknown";
		}
	}

	static String cpuModel() {
		try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
			return lines.filter((l) -> l.startsWith("model name"))
				.findFirst()
				.map((l) -> l.substring(l.indexOf(':') + 1).trim())
				.orElse("unknown CPU");
		}
		catch (IOException ex) {
			return "unknown CPU";
		}
	}

	static double percentile(double[] values, int p) {
		if (values.length == 0) {
			return Double.NaN;
		}
		double[] sorted = values.clone();
		Arrays.sort(sorted);
		int index = (int) Math.ceil(sorted.length * p / 100.0) - 1;
		return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
	}

	/**
	 * What one run measured.
	 *
	 * @param warmUpSeconds from the instance's start to the start of the measuring window
	 * @param settled whether the instance had settled when measuring started (always true without settling)
	 * @param threadsBefore live threads of this JVM before the instance started (Maven and the harness)
	 * @param pollWorkers poll worker threads alive at the end of the window; {@code pollWorkersMax} the most seen
	 * @param connections sessions named {@value TargetConnections#APPLICATION_NAME} on all servers at the end of the
	 * window; {@code connectionsMax} the most seen (counted every 5 s)
	 */
	record Measurement(int targets, boolean badDay, double warmUpSeconds, boolean settled, double wallSeconds, double[] delays, double[] durations,
			long overruns, long failures, double cpuPercent, double postgresCpuPercent, long heapMaxBytes,
			long heapAfterGcBytes, long residentBytes, int threadsBefore, int threads, int pollWorkers,
			int pollWorkersMax, int connections, int connectionsMax) {

		double pollsPerSecond() {
			return this.delays.length / this.wallSeconds;
		}

		double delay(int p) {
			return percentile(this.delays, p);
		}

		double duration(int p) {
			return percentile(this.durations, p);
		}

		String lockState() {
			return this.badDay ? "DDL queue of " + QUEUED + " seen by every target" : "quiet";
		}

	}

	/**
	 * The PostgreSQL servers whose databases are the targets: target {@code t} is database {@code 1 + (t / servers) %
	 * databases} of server {@code t % servers}, so every server holds the same share of the targets. The first server
	 * is {@link PostgresServer#shared()}, the others are private servers of the same major, all with the test servers'
	 * settings ({@code max_connections} 1100).
	 */
	static final class Servers implements AutoCloseable {

		private final List<PostgresServer> servers = new ArrayList<>();

		private final List<Connection> observers = new ArrayList<>();

		private final List<LockScenario> scenarios = new ArrayList<>();

		private final IntFunction<String> database;

		private final int databases;

		private Servers(IntFunction<String> database, int databases) {
			this.database = database;
			this.databases = databases;
		}

		/**
		 * Starts {@code count} servers with databases {@code database(1)..database(databases)} each. With
		 * {@code untracked}, pg_stat_statements stops tracking statements on them ({@code pg_stat_statements.track =
		 * none}; the test servers preload it with {@code track_planning} on): a real target runs the poll in one
		 * session, but here hundreds of monitor sessions run the same statement on one server and would all update the
		 * same pg_stat_statements entry under its spinlock.
		 */
		static Servers start(int count, int databases, IntFunction<String> database, boolean untracked) {
			Servers servers = new Servers(database, databases);
			try {
				for (int s = 0; s < count; s++) {
					PostgresServer server = (s == 0) ? PostgresServer.shared()
							: PostgresServer.startNew(servers.servers.get(0).majorVersion());
					servers.servers.add(server);
					for (int d = 1; d <= databases; d++) {
						server.createDatabase(database.apply(d));
					}
					server.installFixtures(database.apply(1));
					Connection observer = server.connect(database.apply(1), "bench-observer");
					servers.observers.add(observer);
					if (untracked) {
						try (Statement statement = observer.createStatement()) {
							statement.execute("ALTER SYSTEM SET pg_stat_statements.track = 'none'");
							statement.execute("SELECT pg_reload_conf()");
						}
					}
				}
				return servers;
			}
			catch (RuntimeException | SQLException ex) {
				servers.close();
				throw (ex instanceof RuntimeException runtime) ? runtime : new IllegalStateException(ex);
			}
		}

		int count() {
			return this.servers.size();
		}

		PostgresServer first() {
			return this.servers.get(0);
		}

		String jdbcUrl(int target) {
			PostgresServer server = this.servers.get(target % this.servers.size());
			return server.jdbcUrl(this.database.apply(1 + (target / this.servers.size()) % this.databases));
		}

		String superuser() {
			return first().superuser();
		}

		String password() {
			return first().password();
		}

		/** The bad day on every server: an ALTER TABLE waiting behind an idle transaction, {@link #QUEUED} behind it. */
		void stageDdlQueues() throws SQLException {
			for (PostgresServer server : this.servers) {
				try (Connection c = server.connect(this.database.apply(1), "bench-setup"); Statement s = c.createStatement()) {
					s.execute("DROP TABLE IF EXISTS scale_users; CREATE TABLE scale_users (id int PRIMARY KEY)");
				}
				LockScenario scenario = new LockScenario(server, this.database.apply(1), "scale");
				this.scenarios.add(scenario);
				scenario.stageDdlQueue("scale_users", "ADD COLUMN note text", QUEUED);
			}
		}

		void endDdlQueues() {
			this.scenarios.forEach(LockScenario::close);
			this.scenarios.clear();
		}

		/** Sessions named {@value TargetConnections#APPLICATION_NAME} open on all servers now. */
		int monitorConnections() throws SQLException {
			int count = 0;
			for (Connection observer : this.observers) {
				try (Statement s = observer.createStatement();
						ResultSet rows = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE application_name = '"
								+ TargetConnections.APPLICATION_NAME + "'")) {
					rows.next();
					count += rows.getInt(1);
				}
			}
			return count;
		}

		/**
		 * Lowers the CPU priority of the servers' processes to {@code nice} ({@code renice}; new backends inherit it from
		 * their postmaster), so the instance gets the CPU it asks for first, as if the targets ran elsewhere, and the
		 * servers get the rest. Returns false where the postmasters are not visible (a server in a container).
		 */
		boolean deprioritize(int nice) throws IOException, SQLException, InterruptedException {
			Map<Long, long[]> processes = processes();
			List<String> command = new ArrayList<>(List.of("renice", "-n", Integer.toString(nice), "-p"));
			for (long postmaster : postmasters(processes)) {
				if (postmaster < 0) {
					return false;
				}
				command.add(Long.toString(postmaster));
				processes.forEach((pid, process) -> {
					if (process[0] == postmaster) {
						command.add(Long.toString(pid));
					}
				});
			}
			Process renice = new ProcessBuilder(command).redirectErrorStream(true).start();
			String output = new String(renice.getInputStream().readAllBytes());
			if (renice.waitFor() != 0) {
				throw new IllegalStateException("renice failed: " + output);
			}
			return true;
		}

		/** The servers' postmaster pids, found as the parents of our backends; -1 where /proc does not show it. */
		private List<Long> postmasters(Map<Long, long[]> processes) throws SQLException {
			List<Long> postmasters = new ArrayList<>();
			for (Connection observer : this.observers) {
				long backend;
				try (Statement s = observer.createStatement(); ResultSet rows = s.executeQuery("SELECT pg_backend_pid()")) {
					rows.next();
					backend = rows.getLong(1);
				}
				long[] process = processes.get(backend);
				postmasters.add((process == null || !processes.containsKey(process[0])) ? -1 : process[0]);
			}
			return postmasters;
		}

		/**
		 * CPU of the servers in clock ticks: each postmaster's own and reaped children's, plus its live children's
		 * (the backends). The postmaster is found as the parent of a backend of ours; where /proc does not show it
		 * (a server in a container), every process named postgres on the machine counts.
		 */
		long cpuTicks() throws IOException, SQLException {
			Map<Long, long[]> processes = processes();
			List<Long> postmasters = postmasters(processes);
			if (postmasters.contains(-1L)) {
				return processes.values().stream().mapToLong((p) -> p[1]).sum();
			}
			long ticks = 0;
			for (long[] process : processes.values()) {
				if (postmasters.contains(process[0])) {
					ticks += process[1];
				}
			}
			for (long postmaster : postmasters) {
				long[] process = processes.get(postmaster);
				ticks += process[1] + process[2];
			}
			return ticks;
		}

		/** Every process named postgres: pid to {ppid, utime + stime, cutime + cstime}. */
		private static Map<Long, long[]> processes() throws IOException {
			Map<Long, long[]> processes = new HashMap<>();
			try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
				for (Path process : entries.filter((p) -> p.getFileName().toString().matches("\\d+")).toList()) {
					try {
						String stat = Files.readString(process.resolve("stat"));
						int close = stat.lastIndexOf(')');
						if (!stat.substring(stat.indexOf('(') + 1, close).equals("postgres")) {
							continue;
						}
						String[] fields = stat.substring(close + 2).split(" ");
						// fields from 3 (state): ppid 4, utime 14, stime 15, cutime 16, cstime 17
						processes.put(Long.parseLong(process.getFileName().toString()),
								new long[] { Long.parseLong(fields[1]), Long.parseLong(fields[11]) + Long.parseLong(fields[12]),
										Long.parseLong(fields[13]) + Long.parseLong(fields[14]) });
					}
					catch (IOException | RuntimeException ex) {
						// the process ended meanwhile
					}
				}
			}
			return processes;
		}

		/** How the servers are set up, for the table's header. */
		String describe() {
			PostgresServer first = first();
			return String.format(Locale.ROOT, "%d PostgreSQL %d server(s) (%s) with %d databases each, max_connections %s",
					this.servers.size(), first.majorVersion(), first.backendKind(), this.databases, maxConnections());
		}

		private String maxConnections() {
			try (Statement s = this.observers.get(0).createStatement(); ResultSet rows = s.executeQuery("SHOW max_connections")) {
				rows.next();
				return rows.getString(1);
			}
			catch (SQLException ex) {
				return "?";
			}
		}

		@Override
		public void close() {
			endDdlQueues();
			for (Connection observer : this.observers) {
				try {
					observer.close();
				}
				catch (SQLException ex) {
					// the server is going away anyway
				}
			}
			for (PostgresServer server : this.servers) {
				server.close(); // nothing on the shared one
			}
			PostgresServer.closeShared();
		}

	}

	/**
	 * Records every poll's start delay and duration, in arrays rather than one object per poll, until drained; counts
	 * each target's successful polls since start.
	 */
	static final class Recorder implements PollListener {

		private final Map<String, AtomicLong> successes = new ConcurrentHashMap<>();

		private double[] delays = new double[1 << 16];

		private double[] durations = new double[1 << 16];

		private int size;

		private long overruns;

		private long failures;

		@Override
		public void onPoll(PollOutcome outcome) {
			if (outcome.succeeded()) {
				this.successes.computeIfAbsent(outcome.target(), (t) -> new AtomicLong()).incrementAndGet();
			}
			synchronized (this) {
				if (this.size == this.delays.length) {
					this.delays = Arrays.copyOf(this.delays, this.size * 2);
					this.durations = Arrays.copyOf(this.durations, this.size * 2);
				}
				this.delays[this.size] = outcome.startDelay().toNanos() / 1e6;
				this.durations[this.size] = outcome.duration().toNanos() / 1e6;
				this.size++;
				this.overruns += outcome.overruns();
				if (!outcome.succeeded()) {
					this.failures++;
				}
			}
		}

		/** The polls since the last drain; starts over. */
		synchronized Polls drain() {
			Polls polls = new Polls(Arrays.copyOf(this.delays, this.size), Arrays.copyOf(this.durations, this.size),
					this.overruns, this.failures);
			this.size = 0;
			this.overruns = 0;
			this.failures = 0;
			return polls;
		}

		long targetsWithSuccessfulPolls(int atLeast) {
			return this.successes.values().stream().filter((count) -> count.get() >= atLeast).count();
		}

		/** Start delays and durations in milliseconds, ticks skipped, failed polls. */
		record Polls(double[] delays, double[] durations, long overruns, long failures) {
		}

	}

}
