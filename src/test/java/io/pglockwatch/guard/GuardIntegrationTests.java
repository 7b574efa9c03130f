package io.pglockwatch.guard;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import io.micrometer.core.instrument.MeterRegistry;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.incident.IncidentQuery;
import io.pglockwatch.incident.IncidentStore;
import io.pglockwatch.poll.TargetConnections;
import io.pglockwatch.poll.TargetMonitor;
import io.pglockwatch.testsupport.LabService;
import io.pglockwatch.testsupport.LockScenario;
import io.pglockwatch.testsupport.PostgresServer;
import org.junit.jupiter.api.Test;

import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The guard against real lock queues. Each test starts the service with its own guard settings (poll every 500 ms,
 * min-queued 3 as by default) and stages the ALTER TABLE incident on its own table.
 */
class GuardIntegrationTests {

	private static final PostgresServer server = PostgresServer.shared();

	private static final Duration POLL = LabService.POLL;

	private static ConfigurableApplicationContext startAs(String user, String password, String... guard) {
		Map<String, String> properties = LabService.properties(server);
		properties.put("pglockwatch.targets[0].username", user);
		properties.put("pglockwatch.targets[0].password", password);
		for (String setting : guard) {
			String[] nameAndValue = setting.split("=", 2);
			properties.put("pglockwatch.guard." + nameAndValue[0], nameAndValue[1]);
		}
		return LabService.start(properties);
	}

	private static ConfigurableApplicationContext start(String... guard) {
		return startAs(server.superuser(), server.password(), guard);
	}

	private static void table(String name) throws Exception {
		try (Connection c = server.connect(PostgresServer.DEFAULT_DATABASE, "guard-setup");
				Statement s = c.createStatement()) {
			s.execute("DROP TABLE IF EXISTS " + name + "; CREATE TABLE " + name + " (id int PRIMARY KEY)");
		}
	}

	/** Holder (idle in transaction), a waiting ALTER TABLE, and {@code readers} SELECTs queued behind it. */
	private static Staged stage(LockScenario scenario, String table, int readers) throws Exception {
		LockScenario.DdlQueue staged = scenario.stageDdlQueue(table, "ADD COLUMN note text", readers);
		return new Staged(staged.holder(), staged.ddl(), staged.alter(), staged.queuedResults(), Instant.now());
	}

	record Staged(LockScenario.Session holder, LockScenario.Session ddl, CompletableFuture<Void> alter,
			List<CompletableFuture<Void>> queued, Instant queuedAt) {
	}

	private static List<GuardRecord> actions(ConfigurableApplicationContext app, int pid) {
		return app.getBean(GuardLog.class)
			.forIncident(app.getBean(IncidentStore.class)
				.find(IncidentQuery.latest(50))
				.stream()
				.filter((i) -> i.ddl() != null && i.ddl().session().pid() == pid)
				.map(Incident::dedupKey)
				.findFirst()
				.orElse("lab/ddl-lock-queue/" + pid + "@none"));
	}

	private static List<GuardRecord> allActions(ConfigurableApplicationContext app, String dedupKeyPrefix) {
		return app.getBean(JdbcClient.class)
			.sql("SELECT dedup_key FROM guard_action WHERE dedup_key LIKE :p")
			.param("p", dedupKeyPrefix + "%")
			.query(String.class)
			.list()
			.stream()
			.distinct()
			.flatMap((key) -> app.getBean(GuardLog.class).forIncident(key).stream())
			.toList();
	}

	@Test
	void enforceCancelsTheDdlWithinCancelDdlAfterAndTheQueueDrains() throws Exception {
		table("guard_enforce");
		try (ConfigurableApplicationContext app = start("mode=enforce", "cancel-ddl-after=3s");
				LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "genf")) {
			Staged staged = stage(scenario, "guard_enforce", 3);
			scenario.awaitNoWaiters(Duration.ofSeconds(3).plus(POLL.multipliedBy(2)).plusMillis(1500));
			Duration lived = Duration.between(staged.queuedAt(), Instant.now());
			System.out.printf("guard enforce: queue lived %d ms (cancel-ddl-after 3 s, poll 500 ms)%n", lived.toMillis());
			assertThat(lived).isLessThanOrEqualTo(Duration.ofSeconds(3).plus(POLL.multipliedBy(2)).plusMillis(700));
			ExecutionException failure = assertThrows(ExecutionException.class,
					() -> staged.alter().get());
			assertThat(failure.getCause()).hasMessageContaining("canceling statement due to user request");
			assertThat(staged.holder().state()).isEqualTo("idle in transaction");
			for (CompletableFuture<Void> reader : staged.queued()) {
				assertThat(reader).succeedsWithin(Duration.ofSeconds(5));
			}
			await().atMost(Duration.ofSeconds(5)).until(() -> !actions(app, staged.ddl().pid()).isEmpty());
			assertThat(actions(app, staged.ddl().pid())).singleElement().satisfies((r) -> {
				assertThat(r.action()).isEqualTo(GuardAction.CANCEL_DDL);
				assertThat(r.outcome()).isEqualTo(GuardOutcome.CANCELLED);
				assertThat(r.actor()).isEqualTo("guard");
				assertThat(r.mode()).isEqualTo(GuardMode.ENFORCE);
			});
			assertThat(app.getBean(MeterRegistry.class)
				.get("pglockwatch.guard.actions")
				.tag("action", "cancel-ddl")
				.tag("outcome", "cancelled")
				.counter()
				.count()).isEqualTo(1);
		}
	}

	@Test
	void dryRunChangesNothingAndRecordsTheDecision() throws Exception {
		table("guard_dry");
		try (ConfigurableApplicationContext app = start("mode=dry-run", "cancel-ddl-after=1s");
				LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "gdry")) {
			Staged staged = stage(scenario, "guard_dry", 3);
			await().atMost(Duration.ofSeconds(6)).until(() -> allActions(app, "lab/ddl-lock-queue/" + staged.ddl().pid() + "@")
				.stream()
				.anyMatch((r) -> r.outcome() == GuardOutcome.DRY_RUN && r.mode() == GuardMode.DRY_RUN));
			Thread.sleep(1000);
			assertThat(staged.alter()).isNotDone();
			assertThat(staged.ddl().waitEventType()).isEqualTo("Lock");
			assertThat(allActions(app, "lab/ddl-lock-queue/" + staged.ddl().pid() + "@")).singleElement()
				.satisfies((r) -> assertThat(r.reason()).startsWith("would cancel-ddl"));
			// the alert says what the guard would do and what it decided
			Incident incident = await().atMost(Duration.ofSeconds(5))
				.until(() -> app.getBean(IncidentStore.class)
					.find(IncidentQuery.latest(50))
					.stream()
					.filter((i) -> i.ddl() != null && i.ddl().session().pid() == staged.ddl().pid())
					.findFirst(), Optional::isPresent)
				.orElseThrow();
			assertThat(app.getBean(GuardAlertNote.class).about(incident)).containsEntry("mode", "dry-run")
				.containsEntry("plan", "cancel the DDL once it has kept its queue 1 s")
				.containsEntry("actions", List.of("cancel-ddl pid " + staged.ddl().pid() + ": dry-run (guard)"));
		}
	}

	@Test
	void anExcludedApplicationIsNeverTouched() throws Exception {
		table("guard_excl");
		try (ConfigurableApplicationContext app = start("mode=enforce", "cancel-ddl-after=1s",
				"exclude-applications[0]=gexcl_ddl");
				LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "gexcl")) {
			Staged staged = stage(scenario, "guard_excl", 3);
			await().atMost(Duration.ofSeconds(6)).until(() -> !allActions(app, "lab/ddl-lock-queue/" + staged.ddl().pid() + "@").isEmpty());
			Thread.sleep(1000);
			assertThat(staged.alter()).isNotDone();
			assertThat(allActions(app, "lab/ddl-lock-queue/" + staged.ddl().pid() + "@")).singleElement()
				.satisfies((r) -> assertThat(r.outcome()).isEqualTo(GuardOutcome.EXCLUDED));
		}
	}

	@Test
	void aSessionWhoseQueryChangedIsNotTouched() throws Exception {
		table("guard_changed");
		try (ConfigurableApplicationContext app = start("mode=off");
				LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "gchg")) {
			Staged staged = stage(scenario, "guard_changed", 3);
			Instant backendStart;
			Instant firstQueryStart;
			try (Connection c = server.connect(PostgresServer.DEFAULT_DATABASE, "gchg-probe");
					Statement s = c.createStatement();
					ResultSet rs = s.executeQuery("SELECT backend_start, query_start FROM pg_stat_activity WHERE pid = "
							+ staged.ddl().pid())) {
				rs.next();
				backendStart = rs.getTimestamp(1).toInstant();
				firstQueryStart = rs.getTimestamp(2).toInstant();
				// between detection and action the session moves on to another statement
				s.execute("SELECT pg_cancel_backend(" + staged.ddl().pid() + ")");
			}
			assertThat(staged.alter()).failsWithin(Duration.ofSeconds(5));
			CompletableFuture<Void> next = staged.ddl().submit("ALTER TABLE guard_changed ADD COLUMN other text");
			scenario.awaitWaiting(staged.ddl(), Duration.ofSeconds(5));
			TargetConnections connections = app.getBean(TargetMonitor.class).connections("lab");
			SessionSignaller.Result result = new SessionSignaller().signal(connections, false, staged.ddl().pid(),
					backendStart, firstQueryStart);
			assertThat(result.outcome()).isEqualTo(GuardOutcome.CHANGED);
			assertThat(next).isNotDone();
			assertThat(staged.ddl().waitEventType()).isEqualTo("Lock");
		}
	}

	@Test
	void terminateIdleBlockersEndsTheIdleRootAndTheQueueDrains() throws Exception {
		table("guard_term");
		try (ConfigurableApplicationContext app = start("mode=enforce", "cancel-ddl-after=60s",
				"terminate-idle-blockers-after=2s");
				LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "gterm")) {
			Staged staged = stage(scenario, "guard_term", 3);
			scenario.awaitNoWaiters(Duration.ofSeconds(8));
			assertThat(staged.alter()).succeedsWithin(Duration.ofSeconds(5)); // the migration ran
			await().atMost(Duration.ofSeconds(5)).until(() -> allActions(app, "lab/ddl-lock-queue/")
				.stream()
				.anyMatch((r) -> r.action() == GuardAction.TERMINATE_IDLE_BLOCKER && r.pid() == staged.holder().pid()
						&& r.outcome() == GuardOutcome.TERMINATED));
		}
	}

	@Test
	void withoutPermissionToSignalASuperuserTheOutcomeIsNotPermitted() throws Exception {
		server.createRole("guardwatch", "guard-pw", "pg_monitor", "pg_signal_backend");
		table("guard_perm");
		try (ConfigurableApplicationContext app = startAs("guardwatch", "guard-pw", "mode=enforce", "cancel-ddl-after=1s");
				LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "gperm")) {
			Staged staged = stage(scenario, "guard_perm", 3);
			await().atMost(Duration.ofSeconds(8)).until(() -> allActions(app, "lab/ddl-lock-queue/" + staged.ddl().pid() + "@")
				.stream()
				.anyMatch((r) -> r.outcome() == GuardOutcome.NOT_PERMITTED));
			assertThat(staged.alter()).isNotDone();
			assertThat(app.getBean(Guard.class).problem("lab")).contains("may not signal pid " + staged.ddl().pid());
		}
	}

	@Test
	void aCancelledMigrationTransactionThatStillHoldsLocksIsReportedAndEnded() throws Exception {
		table("guard_mig_a");
		table("guard_mig_b");
		try (ConfigurableApplicationContext app = start("mode=enforce", "cancel-ddl-after=2s",
				"terminate-idle-blockers-after=3s");
				LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "gmig")) {
			LockScenario.Session holder = scenario.session("holder");
			holder.execute("BEGIN; SELECT * FROM guard_mig_b");
			LockScenario.Session migration = scenario.session("migration");
			// a migration transaction whose client runs each statement in a savepoint (pgjdbc autosave, psql
			// ON_ERROR_ROLLBACK, ORMs): the first ALTER takes ACCESS EXCLUSIVE on a, the second waits on b. Without the
			// savepoint the cancel would abort the whole transaction, and PostgreSQL releases its locks at once.
			migration.execute("BEGIN; ALTER TABLE guard_mig_a ADD COLUMN x int; SAVEPOINT step2");
			CompletableFuture<Void> second = migration.submit("ALTER TABLE guard_mig_b ADD COLUMN y int");
			scenario.awaitWaiting(migration, Duration.ofSeconds(5));
			for (int i = 1; i <= 3; i++) {
				scenario.session("rb" + i).submit("SELECT count(*) FROM guard_mig_b");
			}
			CompletableFuture<Void> onA = scenario.session("ra").submit("SELECT count(*) FROM guard_mig_a");
			assertThat(second).failsWithin(Duration.ofSeconds(8)); // cancelled by the guard
			// the aborted transaction keeps its lock on a: the reader of a still waits, until the guard ends it
			await().atMost(Duration.ofSeconds(10)).until(() -> allActions(app, "lab/")
				.stream()
				.anyMatch((r) -> r.action() == GuardAction.WATCH_ABORTED_TRANSACTION && r.pid() == migration.pid()));
			assertThat(onA).succeedsWithin(Duration.ofSeconds(10));
			// the reader gets through as the session ends; the guard records the action right after the signal
			await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(allActions(app, "lab/")).anySatisfy((r) -> {
				assertThat(r.action()).isEqualTo(GuardAction.TERMINATE_IDLE_BLOCKER);
				assertThat(r.pid()).isEqualTo(migration.pid());
				assertThat(r.outcome()).isEqualTo(GuardOutcome.TERMINATED);
			}));
		}
	}

}
