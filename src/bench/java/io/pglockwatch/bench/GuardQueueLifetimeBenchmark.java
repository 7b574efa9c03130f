package io.pglockwatch.bench;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import io.pglockwatch.PgLockwatchApplication;
import io.pglockwatch.testsupport.LockScenario;
import io.pglockwatch.testsupport.PostgresServer;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * How long the ALTER TABLE incident's queue lives with the guard enforcing its defaults (poll 1 s, min-queued 3,
 * cancel-ddl-after 10 s): from the queue forming to nobody waiting. Unattended, it lives as long as the blocker
 * does. Run with {@code bench/guard-queue-lifetime.sh [rounds]}.
 */
public final class GuardQueueLifetimeBenchmark {

	private GuardQueueLifetimeBenchmark() {
	}

	public static void main(String[] args) throws Exception {
		try {
			int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
			PostgresServer server = PostgresServer.shared();
			server.installFixtures(PostgresServer.DEFAULT_DATABASE);
			List<String> rows = new ArrayList<>();
			try (ConfigurableApplicationContext app = new SpringApplicationBuilder(PgLockwatchApplication.class).run(
					"--spring.main.web-application-type=none", "--spring.main.banner-mode=off", "--logging.level.root=WARN",
					"--logging.level.io.pglockwatch=ERROR", "--spring.datasource.url=jdbc:h2:mem:guardbench;DB_CLOSE_DELAY=-1",
					"--pglockwatch.targets[0].name=bench",
					"--pglockwatch.targets[0].url=" + server.jdbcUrl(PostgresServer.DEFAULT_DATABASE),
					"--pglockwatch.targets[0].username=" + server.superuser(),
					"--pglockwatch.targets[0].password=" + server.password(), "--pglockwatch.guard.mode=enforce")) {
				for (int round = 1; round <= rounds; round++) {
					String table = "guard_bench_" + round;
					try (Connection c = server.connect(PostgresServer.DEFAULT_DATABASE, "bench-setup");
							Statement s = c.createStatement()) {
						s.execute("DROP TABLE IF EXISTS " + table + "; CREATE TABLE " + table + " (id int PRIMARY KEY)");
					}
					try (LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "gbench" + round)) {
						scenario.stageDdlQueue(table, "ADD COLUMN note text", 20);
						Instant formed = Instant.now();
						scenario.awaitNoWaiters(Duration.ofSeconds(60));
						rows.add("| " + round + " | 20 | " + String.format("%.2f", Duration.between(formed, Instant.now()).toMillis() / 1000.0)
								+ " |");
					}
				}
			}
			System.out.println();
			System.out.println("Guard on (enforce, cancel-ddl-after 10 s, poll 1 s, min-queued 3): how long the queue lived");
			System.out.println();
			System.out.println("| round | queued | queue formed -> drained (s) |");
			System.out.println("|---|---|---|");
			rows.forEach(System.out::println);
		}
		finally {
			PostgresServer.closeShared();
		}
	}

}
