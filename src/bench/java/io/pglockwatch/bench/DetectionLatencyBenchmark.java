package io.pglockwatch.bench;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.pglockwatch.PgLockwatchApplication;
import io.pglockwatch.testsupport.FakePagerDuty;
import io.pglockwatch.testsupport.LockScenario;
import io.pglockwatch.testsupport.PostgresServer;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * How long from a DDL lock queue forming to PagerDuty receiving the trigger, and from the holder ending to the
 * resolve, with default settings (poll every 1 s, min-wait 2 s, min-queued 3, resolve-after 10 s), on a real
 * embedded PostgreSQL and a local stand-in for PagerDuty. Run with {@code bench/detection-latency.sh [rounds]}.
 */
public final class DetectionLatencyBenchmark {

	private static final String ROUTING_KEY = "BENCHROUTINGKEY00000000000000000";

	private DetectionLatencyBenchmark() {
	}

	public static void main(String[] args) throws Exception {
		try {
			int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
			PostgresServer server = PostgresServer.shared();
			server.installFixtures(PostgresServer.DEFAULT_DATABASE);
			Map<String, List<String[]>> byMode = new LinkedHashMap<>();
			// the same run, one after the other: bursts off (as before burst polling) and on (the default)
			for (String burst : new String[] { "0", "250ms" }) {
				List<String[]> rows = new ArrayList<>();
				try (FakePagerDuty pagerDuty = FakePagerDuty.start(ROUTING_KEY);
						ConfigurableApplicationContext app = new SpringApplicationBuilder(PgLockwatchApplication.class)
							.run("--spring.main.web-application-type=none", "--spring.main.banner-mode=off",
									"--logging.level.root=WARN", "--logging.level.io.pglockwatch=WARN",
									"--spring.datasource.url=jdbc:h2:mem:latency" + burst + ";DB_CLOSE_DELAY=-1",
									"--pglockwatch.poll.burst-interval=" + burst,
									"--pglockwatch.targets[0].name=bench",
									"--pglockwatch.targets[0].url=" + server.jdbcUrl(PostgresServer.DEFAULT_DATABASE),
									"--pglockwatch.targets[0].username=" + server.superuser(),
									"--pglockwatch.targets[0].password=" + server.password(),
									"--pglockwatch.alerts.pagerduty.routing-key=" + ROUTING_KEY,
									"--pglockwatch.alerts.pagerduty.url=" + pagerDuty.url(),
									"--pglockwatch.alerts.dashboard-url=http://localhost:8080")) {
					for (int round = 1; round <= rounds; round++) {
						rows.add(round(server, pagerDuty, burst + "-" + round, round));
					}
				}
				byMode.put(burst, rows);
			}
			System.out.println();
			System.out.println("Detection latency, default settings (poll 1 s, min-wait 2 s, min-queued 3, resolve-after "
					+ "10 s), poll.burst-interval 0 (off) and 250ms (the default), one run, " + rounds + " rounds each");
			System.out.println("goal: trigger <= min-wait + 0.5 s = 2.5 s after the DDL starts waiting (pg_locks.waitstart)");
			byMode.forEach((burst, rows) -> {
				System.out.println();
				System.out.println("burst-interval " + burst + ":");
				System.out.println();
				System.out.println("| round | DDL wait start -> trigger (s) | queue of 3 formed -> trigger (s) | holder ended -> resolve (s) |");
				System.out.println("|---|---|---|---|");
				rows.forEach((r) -> System.out.println("| " + String.join(" | ", r) + " |"));
			});
			System.out.println();
			System.out.println("| burst-interval | rounds | DDL wait start -> trigger min / median / max (s) |");
			System.out.println("|---|---|---|");
			Map<String, Double> medians = new LinkedHashMap<>();
			byMode.forEach((burst, rows) -> {
				List<Double> lags = rows.stream().map((r) -> Double.parseDouble(r[1])).sorted().toList();
				double median = median(lags);
				medians.put(burst, median);
				System.out.printf("| %s | %d | %.2f / %.2f / %.2f |%n", burst, lags.size(), lags.get(0), median,
						lags.get(lags.size() - 1));
			});
			System.out.printf("%nmedian with bursts / without: %.2f%n", medians.get("250ms") / medians.get("0"));
		}
		finally {
			PostgresServer.closeShared();
		}
	}

	private static double median(List<Double> sorted) {
		int n = sorted.size();
		return (n % 2 == 1) ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
	}

	private static String[] round(PostgresServer server, FakePagerDuty pagerDuty, String name, int round)
			throws Exception {
		String table = "latency_" + name.replaceAll("[^a-z0-9]", "_");
		try (Connection c = server.connect(PostgresServer.DEFAULT_DATABASE, "bench-setup");
				Statement s = c.createStatement()) {
			s.execute("DROP TABLE IF EXISTS " + table + "; CREATE TABLE " + table + " (id int PRIMARY KEY)");
		}
		int before = pagerDuty.events().size();
		try (LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "latency" + name.replaceAll("[^a-z0-9]", ""))) {
			LockScenario.Session holder = scenario.session("holder");
			holder.execute("BEGIN; SELECT * FROM " + table);
			LockScenario.Session ddl = scenario.session("ddl");
			ddl.submit("ALTER TABLE " + table + " ADD COLUMN note text");
			scenario.awaitWaiting(ddl, Duration.ofSeconds(10));
			Instant waitStart = waitStart(server, ddl.pid());
			for (int i = 1; i <= 3; i++) {
				scenario.session("api" + i).submit("SELECT count(*) FROM " + table);
			}
			scenario.awaitLockWaiters(4, Duration.ofSeconds(10));
			Instant queued = Instant.now();
			FakePagerDuty.Event trigger = pagerDuty.awaitEvents(before + 1, Duration.ofSeconds(30)).get(before);
			holder.execute("ROLLBACK");
			Instant released = Instant.now();
			FakePagerDuty.Event resolve = pagerDuty.awaitEvents(before + 2, Duration.ofSeconds(30)).get(before + 1);
			if (!resolve.dedupKey().equals(trigger.dedupKey())) {
				throw new IllegalStateException("resolve " + resolve.dedupKey() + " does not match " + trigger.dedupKey());
			}
			scenario.awaitNoWaiters(Duration.ofSeconds(10));
			return new String[] { String.valueOf(round), seconds(waitStart, trigger.receivedAt()),
					seconds(queued, trigger.receivedAt()), seconds(released, resolve.receivedAt()) };
		}
	}

	private static Instant waitStart(PostgresServer server, int pid) throws Exception {
		try (Connection c = server.connect(PostgresServer.DEFAULT_DATABASE, "bench-probe");
				Statement s = c.createStatement();
				ResultSet rs = s.executeQuery("SELECT waitstart FROM pg_locks WHERE NOT granted AND pid = " + pid)) {
			rs.next();
			return rs.getTimestamp(1).toInstant();
		}
	}

	private static String seconds(Instant from, Instant to) {
		return String.format("%.2f", Duration.between(from, to).toMillis() / 1000.0);
	}

}
