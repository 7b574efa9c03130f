package io.pglockwatch.incident;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.detect.IncidentState;
import io.pglockwatch.detect.Severity;
import io.pglockwatch.detect.TimelinePoint;
import io.pglockwatch.testsupport.LabService;
import io.pglockwatch.testsupport.LockScenario;
import io.pglockwatch.testsupport.PostgresServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Incidents from real lock situations: polls every 500 ms, with thresholds small enough for a test
 * (min-wait 2 s as by default, min-queued 3, critical-queued 8, resolve-after 3 s).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.NONE)
class IncidentsIntegrationTests {

	static final Duration POLL = LabService.POLL;

	static final Duration MIN_WAIT = Duration.ofSeconds(2);

	static final Duration RESOLVE_AFTER = Duration.ofSeconds(3);

	static final Duration SLACK = Duration.ofMillis(700);

	private static final PostgresServer server = PostgresServer.shared();

	@Autowired
	IncidentStore store;

	@Autowired
	IncidentRecorder recorder;

	private LockScenario scenario;

	@DynamicPropertySource
	static void properties(DynamicPropertyRegistry registry) {
		LabService.register(registry, LabService.properties(server));
		registry.add("spring.datasource.url", () -> "jdbc:h2:mem:incidents-it;DB_CLOSE_DELAY=-1");
		registry.add("pglockwatch.targets[0].detection.ddl-queue.min-queued", () -> "3");
		registry.add("pglockwatch.targets[0].detection.ddl-queue.critical-queued", () -> "8");
		registry.add("pglockwatch.targets[0].detection.blocking-chain.min-blocked", () -> "3");
		registry.add("pglockwatch.targets[0].detection.blocking-chain.min-wait", () -> "1s");
		registry.add("pglockwatch.targets[0].detection.idle-blocker.min-idle", () -> "1s");
		registry.add("pglockwatch.detection.resolve-after", () -> RESOLVE_AFTER.toMillis() + "ms");
	}

	@AfterEach
	void endScenario() {
		if (this.scenario != null) {
			this.scenario.close();
		}
		// let every incident of this test resolve before the next one starts
		await().atMost(RESOLVE_AFTER.plusSeconds(5)).until(() -> this.recorder.openCount("lab") == 0);
		this.recorder.flush(Duration.ofSeconds(5));
	}

	private void table(String name) throws Exception {
		try (Connection c = server.connect(PostgresServer.DEFAULT_DATABASE, "it-setup");
				Statement s = c.createStatement()) {
			s.execute("DROP TABLE IF EXISTS " + name + "; CREATE TABLE " + name
					+ " (id int PRIMARY KEY, v text); INSERT INTO " + name + " SELECT g, 'v' FROM generate_series(1, 10) g");
		}
	}

	private List<Incident> incidents(IncidentKind kind, Instant since) {
		this.recorder.flush(Duration.ofSeconds(5));
		return this.store.find(new IncidentQuery(null, "lab", kind, 100))
			.stream()
			.filter((i) -> !i.openedAt().isBefore(since.minusSeconds(1)))
			.toList();
	}

	private Optional<Incident> ddlIncidentOf(int pid) {
		this.recorder.flush(Duration.ofSeconds(5));
		return this.store.find(new IncidentQuery(null, "lab", IncidentKind.DDL_LOCK_QUEUE, 100))
			.stream()
			.filter((i) -> i.ddl() != null && i.ddl().session().pid() == pid)
			.findFirst();
	}

	@Test
	void alterTableIncidentOpensEscalatesAndResolves() throws Exception {
		table("inc_users");
		this.scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "inc1");
		LockScenario.DdlQueue staged = this.scenario.stageDdlQueue("inc_users",
				"ADD COLUMN flag boolean NOT NULL DEFAULT false", 3);
		LockScenario.Session holder = staged.holder();
		LockScenario.Session ddl = staged.ddl();
		Instant queued = Instant.now();

		await().atMost(MIN_WAIT.plus(POLL).plus(SLACK)).pollInterval(Duration.ofMillis(50))
			.until(() -> ddlIncidentOf(ddl.pid()).isPresent());
		Incident opened = ddlIncidentOf(ddl.pid()).orElseThrow();
		System.out.printf("ddl-lock-queue opened %d ms after the queue formed%n",
				Duration.between(queued, Instant.now()).toMillis());
		assertThat(opened.state()).isEqualTo(IncidentState.OPEN);
		assertThat(opened.severity()).isEqualTo(Severity.WARNING);
		assertThat(opened.ddl().relation()).isEqualTo("public.inc_users");
		assertThat(opened.ddl().mode().pgName()).isEqualTo("AccessExclusiveLock");
		assertThat(opened.ddl().session().commandTag()).isEqualTo("ALTER TABLE");
		assertThat(opened.rootBlocker().pid()).isEqualTo(holder.pid());
		assertThat(opened.rootBlocker().state()).isEqualTo("idle in transaction");
		assertThat(opened.rootBlocker().applicationName()).isEqualTo(holder.applicationName());
		assertThat(opened.dedupKey()).startsWith("lab/ddl-lock-queue/" + ddl.pid() + "@");

		for (int i = 4; i <= 8; i++) {
			this.scenario.session("api" + i).submit("SELECT count(*) FROM inc_users");
		}
		this.scenario.awaitLockWaiters(9, Duration.ofSeconds(10));
		await().atMost(POLL.multipliedBy(2).plus(SLACK))
			.until(() -> ddlIncidentOf(ddl.pid()).orElseThrow().severity() == Severity.CRITICAL);
		Incident escalated = ddlIncidentOf(ddl.pid()).orElseThrow();
		assertThat(escalated.id()).isEqualTo(opened.id());
		assertThat(escalated.state()).isEqualTo(IncidentState.ESCALATED);
		assertThat(escalated.peakQueueDepth()).isEqualTo(8);

		holder.execute("ROLLBACK");
		Instant released = Instant.now();
		this.scenario.awaitNoWaiters(Duration.ofSeconds(10));
		await().atMost(RESOLVE_AFTER.plus(POLL).plus(SLACK)).pollInterval(Duration.ofMillis(50))
			.until(() -> ddlIncidentOf(ddl.pid()).orElseThrow().state() == IncidentState.RESOLVED);
		System.out.printf("resolved %d ms after the holder ended%n", Duration.between(released, Instant.now()).toMillis());
		// from the poll that opened it, through the deepest queue, to the polls it was gone before it resolved
		List<TimelinePoint> timeline = this.store.timeline(opened.id());
		assertThat(timeline.get(0).at()).isEqualTo(opened.openedAt());
		assertThat(timeline).anySatisfy((p) -> assertThat(p.queueDepth()).isEqualTo(8));
		assertThat(timeline.get(timeline.size() - 1).queueDepth()).isZero();
		assertThat(this.store.peakGraph(opened.id())).hasValueSatisfying((json) -> assertThat(json).contains("public.inc_users"));
		assertThat(incidents(IncidentKind.IDLE_BLOCKER, queued)).isEmpty();
		assertThat(incidents(IncidentKind.BLOCKING_CHAIN, queued)).isEmpty();
	}

	@Test
	void aDdlRetriedWithLockTimeoutIsOneIncident() throws Exception {
		table("inc_retry");
		this.scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "inc2");
		Instant start = Instant.now();
		LockScenario.Session holder = this.scenario.session("holder");
		holder.execute("BEGIN; SELECT * FROM inc_retry LIMIT 1");
		LockScenario.Session migration = this.scenario.session("migration");
		migration.execute("SET lock_timeout = '3s'");
		for (int attempt = 1; attempt <= 3; attempt++) {
			CompletableFuture<Void> ddl = migration.submit("ALTER TABLE inc_retry ADD COLUMN flag int");
			this.scenario.awaitWaiting(migration, Duration.ofSeconds(10));
			for (int i = 1; i <= 3; i++) {
				this.scenario.session("a" + attempt + "r" + i).submit("SELECT count(*) FROM inc_retry");
			}
			assertThat(ddl).failsWithin(Duration.ofSeconds(10)); // lock_timeout: the migration backs off, then retries
			Thread.sleep(1000);
		}
		List<Incident> incidents = incidents(IncidentKind.DDL_LOCK_QUEUE, start);
		assertThat(incidents).singleElement().satisfies((i) -> assertThat(i.ddl().session().pid()).isEqualTo(migration.pid()));
	}

	@Test
	void rowLockChainOpensBlockingChain() throws Exception {
		table("inc_rows");
		this.scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "inc3");
		Instant start = Instant.now();
		LockScenario.Session first = this.scenario.session("first");
		first.execute("BEGIN; UPDATE inc_rows SET v = 'a' WHERE id = 1; SELECT pg_sleep(0)");
		// keep it active (not idle in transaction): a long statement in the same transaction
		first.submit("SELECT pg_sleep(30)");
		for (int i = 1; i <= 3; i++) {
			this.scenario.session("w" + i).submit("UPDATE inc_rows SET v = 'b' WHERE id = 1");
		}
		this.scenario.awaitLockWaiters(3, Duration.ofSeconds(10));
		await().atMost(Duration.ofSeconds(1).plus(POLL).plus(SLACK).plusSeconds(1))
			.until(() -> !incidents(IncidentKind.BLOCKING_CHAIN, start).isEmpty());
		Incident chain = incidents(IncidentKind.BLOCKING_CHAIN, start).get(0);
		assertThat(chain.rootBlocker().pid()).isEqualTo(first.pid());
		assertThat(chain.rootBlocker().state()).isEqualTo("active");
		assertThat(chain.queueDepth()).isEqualTo(3);
		assertThat(chain.ddl()).isNull();
	}

	@Test
	void idleInTransactionRowLockHolderOpensIdleBlocker() throws Exception {
		table("inc_idle");
		this.scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "inc4");
		Instant start = Instant.now();
		LockScenario.Session idle = this.scenario.session("idle");
		idle.execute("BEGIN; UPDATE inc_idle SET v = 'a' WHERE id = 2");
		this.scenario.session("w1").submit("UPDATE inc_idle SET v = 'b' WHERE id = 2");
		this.scenario.awaitLockWaiters(1, Duration.ofSeconds(10));
		await().atMost(Duration.ofSeconds(1).plus(POLL).plus(SLACK).plusSeconds(1))
			.until(() -> !incidents(IncidentKind.IDLE_BLOCKER, start).isEmpty());
		Incident incident = incidents(IncidentKind.IDLE_BLOCKER, start).get(0);
		assertThat(incident.rootBlocker().pid()).isEqualTo(idle.pid());
		assertThat(incident.rootBlocker().state()).isEqualTo("idle in transaction");
		assertThat(incident.rootBlocker().idleFor()).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
		assertThat(incidents(IncidentKind.BLOCKING_CHAIN, start)).isEmpty();
	}

	@Test
	void idleHolderBehindADdlQueueIsOneIncident() throws Exception {
		table("inc_both");
		this.scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "inc5");
		Instant start = Instant.now();
		LockScenario.Session idle = this.scenario.session("idle");
		idle.execute("BEGIN; UPDATE inc_both SET v = 'z' WHERE id = 1");
		LockScenario.Session ddl = this.scenario.session("ddl");
		ddl.submit("CREATE INDEX inc_both_v ON inc_both (v)");
		this.scenario.awaitWaiting(ddl, Duration.ofSeconds(10));
		for (int i = 1; i <= 4; i++) {
			this.scenario.session("w" + i).submit("INSERT INTO inc_both VALUES (" + (100 + i) + ", 'x')");
		}
		this.scenario.awaitLockWaiters(5, Duration.ofSeconds(10));
		await().atMost(Duration.ofSeconds(6)).until(() -> ddlIncidentOf(ddl.pid()).isPresent());
		Thread.sleep(2500); // idle for longer than min-idle: still only one incident
		assertThat(incidents(IncidentKind.IDLE_BLOCKER, start)).isEmpty();
		assertThat(incidents(IncidentKind.BLOCKING_CHAIN, start)).isEmpty();
		assertThat(ddlIncidentOf(ddl.pid()).orElseThrow().rootBlocker().state()).isEqualTo("idle in transaction");
	}

}
