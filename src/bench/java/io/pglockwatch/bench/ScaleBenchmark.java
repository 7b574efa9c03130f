package io.pglockwatch.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import io.pglockwatch.bench.PollLoad.Measurement;

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
 * PostgreSQL server, so the server's CPU is reported too. {@link FleetBenchmark} runs the same harness
 * ({@link PollLoad}) over several servers, up to 1,000 targets.
 */
public final class ScaleBenchmark {

	private static final int DATABASES = 10;

	private ScaleBenchmark() {
	}

	public static void main(String[] args) throws Exception {
		int[] sizes = args.length > 0 ? Arrays.stream(args).mapToInt(Integer::parseInt).toArray() : new int[] { 100, 300 };
		try (PollLoad.Servers servers = PollLoad.Servers.start(1, DATABASES, ScaleBenchmark::database, false)) {
			List<String> rows = new ArrayList<>();
			for (int targets : sizes) {
				for (boolean badDay : new boolean[] { false, true }) {
					Measurement m = PollLoad.measure(servers, targets, badDay,
							"jdbc:h2:mem:scale" + targets + badDay + ";DB_CLOSE_DELAY=-1", Duration.ZERO,
							PollLoad.WINDOW);
					String row = row(m);
					System.out.println(row);
					rows.add(row);
				}
			}
			System.out.println();
			System.out.printf("One instance, targets polled every 1 s, %d cores (%s), JVM %s, max heap %d MB; "
					+ "PostgreSQL %d on the same machine; %d s measured after %d s warm-up%n",
					Runtime.getRuntime().availableProcessors(), PollLoad.cpuModel(), System.getProperty("java.version"),
					Runtime.getRuntime().maxMemory() >> 20, servers.first().majorVersion(), PollLoad.WINDOW.toSeconds(),
					PollLoad.WARM_UP.toSeconds());
			System.out.println();
			System.out.println("| targets | lock state | polls/s | start delay p50 / p99 / max (ms) | poll duration p50 / p99 (ms) "
					+ "| overruns | failed polls | instance CPU (% of one core) | PostgreSQL CPU (% of one core) "
					+ "| heap used max / after GC (MB) | threads |");
			System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
			rows.forEach(System.out::println);
			System.out.println();
			System.out.println("goal: start delay p99 < 200 ms at 100 targets");
		}
	}

	private static String database(int d) {
		return String.format(Locale.ROOT, "scale_%02d", d);
	}

	private static String row(Measurement m) {
		return String.format(Locale.ROOT,
				"| %d | %s | %.1f | %.1f / %.1f / %.1f | %.1f / %.1f | %d | %d | %.0f | %.0f | %d / %d | %d |", m.targets(),
				m.lockState(), m.pollsPerSecond(), m.delay(50), m.delay(99), m.delay(100), m.duration(50), m.duration(99),
				m.overruns(), m.failures(), m.cpuPercent(), m.postgresCpuPercent(), m.heapMaxBytes() >> 20,
				m.heapAfterGcBytes() >> 20, m.threads());
	}

}
