package io.pglockwatch.incident;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.MeterRegistry;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.detect.IncidentState;
import io.pglockwatch.detect.SessionFacts;
import io.pglockwatch.detect.Severity;
import io.pglockwatch.testsupport.LabService;
import io.pglockwatch.testsupport.LockScenario;
import io.pglockwatch.testsupport.PostgresServer;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Whole-service runs that need their own application contexts: a restart, and a busy but healthy database. */
class IncidentRestartAndNoiseIntegrationTests {

	private static final PostgresServer server = PostgresServer.shared();

	private static ConfigurableApplicationContext start(String datasourceUrl, Map<String, String> extra) {
		Map<String, String> properties = LabService.properties(server);
		properties.put("spring.datasource.url", datasourceUrl);
		properties.putAll(extra);
		return LabService.start(properties);
	}

	private static List<Incident> ddlIncidents(ConfigurableApplicationContext context, int ddlPid) {
		context.getBean(IncidentRecorder.class).flush(Duration.ofSeconds(5));
		return context.getBean(IncidentStore.class)
			.find(new IncidentQuery(null, "lab", IncidentKind.DDL_LOCK_QUEUE, 100))
			.stream()
			.filter((i) -> i.ddl().session().pid() == ddlPid)
			.toList();
	}

	@Test
	void aRestartMidIncidentContinuesTheSameIncident() throws Exception {
		String store = "jdbc:h2:file:" + Path.of("target", "restart-" + UUID.randomUUID(), "pglockwatch").toAbsolutePath();
		Map<String, String> fast = Map.of("pglockwatch.detection.ddl-queue.min-queued", "2",
				"pglockwatch.detection.resolve-after", "3s");
		try (Connection setup = server.connect(PostgresServer.DEFAULT_DATABASE, "it-setup");
				Statement s = setup.createStatement()) {
			s.execute("DROP TABLE IF EXISTS inc_restart; CREATE TABLE inc_restart (id int PRIMARY KEY)");
		}
		try (LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "restart")) {
			LockScenario.DdlQueue staged = scenario.stageDdlQueue("inc_restart", "ADD COLUMN note text", 2);
			LockScenario.Session holder = staged.holder();
			LockScenario.Session ddl = staged.ddl();

			String id;
			try (ConfigurableApplicationContext first = start(store, fast)) {
				await().atMost(Duration.ofSeconds(10)).until(() -> !ddlIncidents(first, ddl.pid()).isEmpty());
				id = ddlIncidents(first, ddl.pid()).get(0).id();
			}
			Instant restarted = Instant.now();
			try (ConfigurableApplicationContext second = start(store, fast)) {
				await().atMost(Duration.ofSeconds(5))
					.until(() -> ddlIncidents(second, ddl.pid()).get(0).lastSeenAt().isAfter(restarted.minusSeconds(1)));
				assertThat(ddlIncidents(second, ddl.pid())).singleElement().satisfies((i) -> {
					assertThat(i.id()).isEqualTo(id);
					assertThat(i.isActive()).isTrue();
				});
				holder.execute("ROLLBACK");
				await().atMost(Duration.ofSeconds(8))
					.until(() -> ddlIncidents(second, ddl.pid()).get(0).state() == IncidentState.RESOLVED);
				assertThat(ddlIncidents(second, ddl.pid())).singleElement()
					.satisfies((i) -> assertThat(i.id()).isEqualTo(id));
				MeterRegistry meters = second.getBean(MeterRegistry.class);
				assertThat(meters.get("pglockwatch.incidents.open").tag("kind", "ddl-lock-queue").gauge().value()).isZero();
			}
		}
	}

	@Test
	void aBusyHealthyDatabaseWithDdlOnIdleTablesOpensNoIncident() throws Exception {
		String store = "jdbc:h2:mem:noise-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
		try (ConfigurableApplicationContext app = start(store, Map.of())) {
			AtomicBoolean stop = new AtomicBoolean();
			AtomicLong transactions = new AtomicLong();
			AtomicLong ddl = new AtomicLong();
			List<Thread> threads = new ArrayList<>();
			for (int i = 0; i < 8; i++) {
				threads.add(worker("writer" + i, stop, (c) -> {
					c.setAutoCommit(false);
					try (PreparedStatement update = c.prepareStatement(
							"UPDATE accounts SET balance = balance + 1 WHERE id = ?");
							PreparedStatement insert = c.prepareStatement(
									"INSERT INTO orders (user_id, amount, status) VALUES (?, 1, 'new')")) {
						while (!stop.get()) {
							update.setInt(1, ThreadLocalRandom.current().nextInt(1, 4));
							update.executeUpdate();
							insert.setInt(1, ThreadLocalRandom.current().nextInt(1, 1000));
							insert.executeUpdate();
							c.commit();
							transactions.incrementAndGet();
						}
					}
				}));
			}
			threads.add(worker("ddl", stop, (c) -> {
				try (Statement s = c.createStatement()) {
					while (!stop.get()) {
						s.execute("ALTER TABLE idle_t ADD COLUMN c_tmp int");
						s.execute("ALTER TABLE idle_t DROP COLUMN c_tmp");
						s.execute("CREATE INDEX idle_t_v ON idle_t (v)");
						s.execute("DROP INDEX idle_t_v");
						ddl.addAndGet(4);
						Thread.sleep(100);
					}
				}
			}));
			threads.forEach(Thread::start);
			Thread.sleep(15_000);
			stop.set(true);
			for (Thread t : threads) {
				t.join(10_000);
			}
			app.getBean(IncidentRecorder.class).flush(Duration.ofSeconds(5));
			System.out.printf("15 s workload: %d write transactions, %d DDL statements%n", transactions.get(), ddl.get());
			assertThat(transactions.get()).isGreaterThan(1000);
			assertThat(ddl.get()).isGreaterThan(40);
			assertThat(app.getBean(IncidentStore.class).find(IncidentQuery.latest(10))).isEmpty();
			MeterRegistry meters = app.getBean(MeterRegistry.class);
			assertThat(meters.get("pglockwatch.incidents.opened").counters()).allSatisfy((c) -> assertThat(c.count()).isZero());
		}
	}

	interface Work {

		void run(Connection connection) throws Exception;

	}

	private static Thread worker(String name, AtomicBoolean stop, Work work) {
		Thread thread = new Thread(() -> {
			try (Connection c = server.connect(PostgresServer.DEFAULT_DATABASE, "noise-" + name)) {
				work.run(c);
			}
			catch (SQLException ex) {
				if (!stop.get()) {
					throw new IllegalStateException(ex);
				}
			}
			catch (Exception ex) {
				throw new IllegalStateException(ex);
			}
		}, name);
		thread.setDaemon(true);
		return thread;
	}


	@Test
	void onlyStaleIncidentsOfAnUnwatchedTargetAreResolvedAtStartup() throws Exception {
		// another shard may watch "billing" and share this store: its live incident must stay open
		String store = "jdbc:h2:mem:orphans-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
		Flyway.configure()
			.dataSource(store, "sa", "")
			.locations("classpath:db/migration/h2")
			.load()
			.migrate();
		IncidentStore prefill = new IncidentStore(JdbcClient
			.create(new DriverManagerDataSource(store, "sa", "")));
		Instant now = Instant.now();
		prefill.save(orphan("stale", now.minus(Duration.ofHours(2))));
		prefill.save(orphan("live", now.minus(Duration.ofMinutes(5))));
		try (ConfigurableApplicationContext app = start(store, Map.of())) {
			app.getBean(IncidentRecorder.class).flush(Duration.ofSeconds(5));
			IncidentStore incidents = app.getBean(IncidentStore.class);
			assertThat(incidents.findById("stale")).hasValueSatisfying(
					(i) -> assertThat(i.state()).isEqualTo(IncidentState.RESOLVED));
			assertThat(incidents.findById("live")).hasValueSatisfying(
					(i) -> assertThat(i.state()).isEqualTo(IncidentState.OPEN));
		}
	}

	private static Incident orphan(String id, Instant lastSeen) {
		SessionFacts root = new SessionFacts(4242, lastSeen.minusSeconds(600),
				"active", "worker", "app", null, "billing", lastSeen.minusSeconds(60), Duration.ofSeconds(60), null, null,
				"UPDATE", null);
		return new Incident(id, "billing/blocking-chain/4242@" + id, "billing", IncidentKind.BLOCKING_CHAIN,
				Severity.WARNING, IncidentState.OPEN, lastSeen.minusSeconds(60), null, null, lastSeen,
				null, root, 6, 6, Duration.ofSeconds(45), "billing");
	}

}
