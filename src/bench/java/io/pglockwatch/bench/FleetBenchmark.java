package io.pglockwatch.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import io.pglockwatch.bench.PollLoad.Measurement;

/**
 * A fleet on one replica: one pg-lockwatch instance polling 100, 300 and 1,000 targets every second (the service's
 * defaults, burst polling included), all sizes in one run and one table, quiet and with a DDL queue that every target
 * sees. It is {@link ScaleBenchmark}'s harness ({@link PollLoad}) with the targets spread over several PostgreSQL
 * servers, {@code bench.servers} (default 4), each with {@code bench.databases} databases (default 10): target
 * {@code t} is on server {@code t % servers}, so 1,000 targets are 250 sessions per server. The test servers allow
 * 1100 connections each, so one server would take the 1,000 monitor sessions only just, next to the bad day's and
 * the harness's, and every poll would read a thousand backends in pg_locks and pg_stat_activity where a real target
 * has its own few; four smaller servers are nearer the real thing.
 * <p>
 * The servers run on the instance's own cores, so the harness keeps out of the instance's way where it can: their
 * processes run at nice 19 ({@code bench.postgres-nice}), pg_stat_statements stops tracking statements on them
 * (hundreds of monitor sessions running one statement on one server would all update one entry under its spinlock;
 * {@code -Dbench.track-statements=true} keeps it), an unreported round first lets the JIT compile the poll and
 * incident code ({@code bench.jit-warm-up-seconds}, default 30), and each size is measured only once the instance has
 * settled after its start ({@code bench.max-settle-seconds}, default 300, then measured anyway and marked): a new
 * monitor session costs its server about 80 ms of CPU over its first polls (the connection, then planning the poll's
 * statement until pgjdbc prepares it on the server at the fifth execution), which a thousand targets would each pay on
 * their own servers but here all land on the same two cores.
 * <p>
 * Besides ScaleBenchmark's figures it reports the live threads of this JVM and how many are poll workers, the
 * monitor's sessions open on the servers ({@code pg_stat_activity.application_name = 'pg-lockwatch'}) and the JVM's
 * resident memory. Live threads include Maven's and the harness's (the bad day's sessions have a thread each), so the
 * count before the instance started is printed next to it. The store is an H2 file, as in production, one per run.
 * <p>
 * Run with {@code bench/fleet.sh [targets...]}.
 */
public final class FleetBenchmark {

	private static final int SERVERS = Integer.getInteger("bench.servers", 4);

	private static final int DATABASES = Integer.getInteger("bench.databases", 10);

	/** Whether pg_stat_statements tracks the servers' statements ({@code -Dbench.track-statements=true}); off by default. */
	private static final boolean TRACK_STATEMENTS = Boolean.getBoolean("bench.track-statements");

	/**
	 * The nice value of the servers' processes ({@code -Dbench.postgres-nice}, default 19; 0 leaves them as they are):
	 * the instance comes first on the shared cores, as if the targets were other machines.
	 */
	private static final int POSTGRES_NICE = Integer.getInteger("bench.postgres-nice", 19);

	/** Which cases run: {@code quiet}, {@code ddl} or both (the default), e.g. {@code -Dbench.cases=quiet}. */
	private static final String CASES = System.getProperty("bench.cases", "quiet,ddl");

	/** The longest warm-up: from the instance's start until it has settled, or measured anyway. */
	private static final Duration MAX_SETTLE = Duration.ofSeconds(Long.getLong("bench.max-settle-seconds", 300));

	/**
	 * An unreported round first, 100 targets with the DDL queue for this long ({@code -Dbench.jit-warm-up-seconds},
	 * default 30; 0 skips it): the JIT compiles the poll, graph and incident code before the first measured size, so
	 * the compilations do not land in the first sizes' CPU.
	 */
	private static final Duration JIT_WARM_UP = Duration.ofSeconds(Long.getLong("bench.jit-warm-up-seconds", 30));

	/** The goals at 1,000 targets. */
	private static final double GOAL_P99_MS = 200;

	private FleetBenchmark() {
	}

	public static void main(String[] args) throws Exception {
		int[] sizes = args.length > 0 ? Arrays.stream(args).mapToInt(Integer::parseInt).toArray()
				: new int[] { 100, 300, 1000 };
		String loadBefore = PollLoad.loadAverage();
		try (PollLoad.Servers servers = PollLoad.Servers.start(SERVERS, DATABASES, FleetBenchmark::database, !TRACK_STATEMENTS)) {
			boolean niced = POSTGRES_NICE != 0 && servers.deprioritize(POSTGRES_NICE);
			long residentBefore = PollLoad.residentBytes();
			if (!JIT_WARM_UP.isZero()) {
				System.err.println("  JIT warm-up: 100 targets with the DDL queue for " + JIT_WARM_UP.toSeconds() + " s, not reported");
				PollLoad.measure(servers, 100, true, store(100, true), Duration.ZERO, JIT_WARM_UP);
			}
			List<Measurement> measurements = new ArrayList<>();
			for (int targets : sizes) {
				for (boolean badDay : new boolean[] { false, true }) {
					if (!CASES.contains(badDay ? "ddl" : "quiet")) {
						continue;
					}
					Measurement m = PollLoad.measure(servers, targets, badDay, store(targets, badDay), MAX_SETTLE,
							PollLoad.WINDOW);
					System.out.println(row(m));
					measurements.add(m);
				}
			}
			System.out.println();
			System.out.println("One instance, targets polled every 1 s (poll.burst-interval "
					+ System.getProperty("pglockwatch.poll.burst-interval", "250ms") + "), " + PollLoad.describeMachine()
					+ " (load average before the run " + loadBefore + "); JVM RSS before the first instance "
					+ (residentBefore >> 20) + " MB (Maven and the harness)" + (JIT_WARM_UP.isZero() ? ""
							: "; an unreported " + JIT_WARM_UP.toSeconds() + " s JIT warm-up round first"));
			System.out.println("Targets: " + servers.describe() + (niced ? ", processes at nice " + POSTGRES_NICE : "")
					+ (TRACK_STATEMENTS ? "" : ", pg_stat_statements.track none") + ", target t on server t % " + servers.count()
					+ "; each size and case in a fresh instance, measured for " + PollLoad.WINDOW.toSeconds()
					+ " s once settled (every target " + PollLoad.SETTLED_POLLS + " good polls, the last "
					+ PollLoad.SETTLE_CHECK.toSeconds() + " s with start delay p99 < 1 s and no tick skipped; at least "
					+ PollLoad.WARM_UP.toSeconds() + " s, at most " + MAX_SETTLE.toSeconds() + " s after start)");
			System.out.println();
			System.out.println("| targets | case | settled after (s) | polls/s | poll start delay p50 / p99 / max (ms) | poll duration p50 / p99 (ms) "
					+ "| ticks skipped (overruns) | poll failures | instance CPU (% of one core) | PostgreSQL CPU (% of one core) "
					+ "| heap used max / after GC (MB) | JVM RSS (MB) | live threads total (before start) / poll workers (most) "
					+ "| monitor connections (most) |");
			System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
			measurements.forEach((m) -> System.out.println(row(m)));
			System.out.println();
			for (Measurement m : measurements) {
				if (m.targets() < 1000) {
					continue;
				}
				boolean met = m.delay(99) < GOAL_P99_MS && m.overruns() == 0;
				System.out.printf(Locale.ROOT, "goal at %d targets, %s (start delay p99 < %.0f ms, 0 ticks skipped): %s "
						+ "(p99 %.1f ms, %d skipped)%n", m.targets(), m.lockState(), GOAL_P99_MS, met ? "met" : "NOT met",
						m.delay(99), m.overruns());
			}
		}
	}

	private static String database(int d) {
		return String.format(Locale.ROOT, "fleet_%02d", d);
	}

	/** A fresh H2 file store for one run, under java.io.tmpdir (target/ when run by bench/fleet.sh). */
	private static String store(int targets, boolean badDay) throws IOException {
		Path folder = Path.of(System.getProperty("java.io.tmpdir"), "fleet-store", targets + (badDay ? "-ddl" : "-quiet"));
		if (Files.exists(folder)) {
			try (Stream<Path> files = Files.walk(folder)) {
				for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
					Files.delete(file);
				}
			}
		}
		Files.createDirectories(folder);
		return "jdbc:h2:file:" + folder.toAbsolutePath().resolve("pglockwatch");
	}

	private static String row(Measurement m) {
		return String.format(Locale.ROOT,
				"| %d | %s | %s | %.1f | %.1f / %.1f / %.1f | %.1f / %.1f | %d | %d | %.0f | %.0f | %d / %d | %d | %d (%d) / %d (%d) "
						+ "| %d (%d) |",
				m.targets(), m.lockState(),
				String.format(Locale.ROOT, m.settled() ? "%.0f" : "not in %.0f", m.warmUpSeconds()), m.pollsPerSecond(), m.delay(50), m.delay(99), m.delay(100), m.duration(50),
				m.duration(99), m.overruns(), m.failures(), m.cpuPercent(), m.postgresCpuPercent(), m.heapMaxBytes() >> 20,
				m.heapAfterGcBytes() >> 20, m.residentBytes() >> 20, m.threads(), m.threadsBefore(), m.pollWorkers(), m.pollWorkersMax(),
				m.connections(), m.connectionsMax());
	}

}
