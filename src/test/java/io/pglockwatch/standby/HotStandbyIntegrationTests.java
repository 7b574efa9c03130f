package io.pglockwatch.standby;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.micrometer.core.instrument.MeterRegistry;
import io.pglockwatch.alert.AlertPayloads;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.detect.IncidentState;
import io.pglockwatch.graph.EdgeKind;
import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.graph.RootBlocker;
import io.pglockwatch.graph.WaitEdge;
import io.pglockwatch.guard.GuardLog;
import io.pglockwatch.incident.IncidentQuery;
import io.pglockwatch.incident.IncidentRecorder;
import io.pglockwatch.incident.IncidentStore;
import io.pglockwatch.poll.TargetState;
import io.pglockwatch.poll.TargetStatus;
import io.pglockwatch.testsupport.LabService;
import io.pglockwatch.testsupport.LockScenario;
import io.pglockwatch.testsupport.PostgresServer;
import io.pglockwatch.testsupport.StandbyServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A real streaming hot standby of a real primary, both targets of one pg-lockwatch with the guard in enforce mode: a
 * lock taken on the primary and replayed on the standby queues the standby's readers behind the startup process, which
 * the graph makes their root blocker; a replay-lock-queue incident opens within the DDL queue thresholds and names the
 * primary's session that holds the lock; the guard leaves the startup process alone; the primary's rollback resolves
 * it. And replay waiting for a query on the standby shows on the target.
 */
class HotStandbyIntegrationTests {

	private static final Duration MIN_WAIT = Duration.ofSeconds(1);

	private static PostgresServer primary;

	private static StandbyServer standby;

	private static ConfigurableApplicationContext app;

	@BeforeAll
	static void start() throws Exception {
		primary = PostgresServer.startNewEmbedded(PostgresServer.DEFAULT_MAJOR);
		standby = StandbyServer.start(primary);
		try (Connection c = primary.connect(PostgresServer.DEFAULT_DATABASE, "standby-setup");
				Statement s = c.createStatement()) {
			s.execute("DROP TABLE IF EXISTS replayed; CREATE TABLE replayed (id int PRIMARY KEY);"
					+ " INSERT INTO replayed SELECT generate_series(1, 100);"
					+ " DROP TABLE IF EXISTS reported; CREATE TABLE reported (id int PRIMARY KEY);");
		}
		standby.awaitReplayed();
		Map<String, String> properties = LabService.properties(primary);
		properties.put("pglockwatch.targets[0].name", "orders-primary");
		properties.put("pglockwatch.targets[1].name", "orders-replica");
		properties.put("pglockwatch.targets[1].url", standby.jdbcUrl(PostgresServer.DEFAULT_DATABASE));
		properties.put("pglockwatch.targets[1].username", standby.superuser());
		properties.put("pglockwatch.targets[1].password", standby.password());
		properties.put("pglockwatch.targets[1].primary", "orders-primary");
		properties.put("pglockwatch.detection.ddl-queue.min-wait", MIN_WAIT.toMillis() + "ms");
		properties.put("pglockwatch.detection.resolve-after", "1s");
		properties.put("pglockwatch.guard.mode", "enforce");
		properties.put("pglockwatch.guard.cancel-ddl-after", "1s");
		app = LabService.start(properties);
	}

	@AfterAll
	static void stop() {
		if (app != null) {
			app.close();
		}
		if (standby != null) {
			standby.close();
		}
		if (primary != null) {
			primary.close();
		}
	}

	@Test
	void readersBehindAReplayedLockAreAReplayLockQueueThatNamesThePrimarysHolderAndTheGuardLeavesReplayAlone()
			throws Exception {
		TargetStatus targets = app.getBean(TargetStatus.class);
		MeterRegistry meters = app.getBean(MeterRegistry.class);
		await().atMost(Duration.ofSeconds(20)).until(() -> targets.get("orders-replica").role() != null
				&& targets.get("orders-primary").role() != null);
		assertThat(targets.get("orders-replica").role()).isEqualTo(TargetState.STANDBY);
		assertThat(targets.get("orders-primary").role()).isEqualTo(TargetState.PRIMARY);
		assertThat(gauge(meters, "pglockwatch.target.in.recovery", "orders-replica")).isEqualTo(1.0);
		assertThat(gauge(meters, "pglockwatch.target.in.recovery", "orders-primary")).isEqualTo(0.0);
		int startup = standby.startupPid();

		try (LockScenario onPrimary = new LockScenario(primary, PostgresServer.DEFAULT_DATABASE, "replay-primary");
				LockScenario onStandby = new LockScenario(standby.server(), PostgresServer.DEFAULT_DATABASE,
						"replay-standby")) {
			LockScenario.Session migration = onPrimary.session("migration");
			migration.execute("BEGIN; LOCK TABLE replayed IN ACCESS EXCLUSIVE MODE");
			standby.awaitReplayed();
			for (int i = 1; i <= 4; i++) {
				onStandby.session("report" + i).submit("SELECT count(*) FROM replayed");
			}
			onStandby.awaitLockWaiters(4, Duration.ofSeconds(10));
			long queued = System.nanoTime();

			// the graph: every reader waits on the startup process, a root blocker named for what it does
			LockWaitGraph graph = await().atMost(Duration.ofSeconds(5))
				.until(() -> targets.get("orders-replica").freshGraph(),
						(g) -> g != null && g.rootBlockers().stream().anyMatch((r) -> r.pid() == startup && r.blockedCount() == 4));
			List<WaitEdge> edges = graph.edges().stream().filter((e) -> e.blockerPid() == startup).toList();
			assertThat(edges).hasSize(4).allSatisfy((e) -> assertThat(e.kind()).isEqualTo(EdgeKind.HARD));
			assertThat(graph.rootBlockers()).extracting(RootBlocker::pid).containsExactly(startup);
			assertThat(graph.sessions().get(startup).activity().query()).startsWith("replaying WAL from the primary");

			// the incident, within the DDL queue thresholds, naming the primary's holder
			Incident incident = await().atMost(Duration.ofSeconds(10))
				.until(() -> active(IncidentKind.REPLAY_LOCK_QUEUE), (found) -> found != null);
			Duration opened = Duration.ofNanos(System.nanoTime() - queued);
			assertThat(opened).isLessThan(MIN_WAIT.plus(LabService.POLL).plus(Duration.ofSeconds(2)));
			assertThat(incident.dedupKey()).startsWith("orders-replica/replay-lock-queue/" + startup + "@");
			assertThat(incident.ddl().relation()).isEqualTo("public.replayed");
			Incident named = await().atMost(Duration.ofSeconds(10))
				.until(() -> active(IncidentKind.REPLAY_LOCK_QUEUE),
						(found) -> found != null && found.rootBlocker().statement().contains("held on orders-primary"));
			String summary = AlertPayloads.summary(named);
			System.out.println("replay-lock-queue opened " + opened.toMillis() + " ms after 4 readers queued: " + summary);
			assertThat(summary).contains("orders-replica (hot standby): 4 sessions wait for public.replayed behind WAL replay")
				.contains("for a transaction on the primary")
				.contains("replay lag")
				.contains("held on orders-primary by pid " + migration.pid() + " idle in transaction");

			// the guard, in enforce mode, never signalled the startup process: the standby still replays
			Thread.sleep(2000);
			assertThat(app.getBean(GuardLog.class).forIncident(incident.dedupKey())).isEmpty();
			assertThat(standby.startupPid()).isEqualTo(startup);
			assertThat(onStandby.blockingPids()).allSatisfy((pid, blockers) -> assertThat(blockers).contains(startup));

			// the primary's rollback ends it on the standby too
			migration.execute("ROLLBACK");
			onStandby.awaitNoWaiters(Duration.ofSeconds(10));
			await().atMost(Duration.ofSeconds(10)).until(() -> active(IncidentKind.REPLAY_LOCK_QUEUE) == null);
			Incident resolved = app.getBean(IncidentStore.class).findById(incident.id()).orElseThrow();
			assertThat(resolved.state()).isEqualTo(IncidentState.RESOLVED);
		}
	}

	@Test
	void replayWaitingForAQueryOnTheStandbyShowsOnTheTargetAndTheGuardLeavesReplayAlone() throws Exception {
		TargetStatus targets = app.getBean(TargetStatus.class);
		MeterRegistry meters = app.getBean(MeterRegistry.class);
		int startup = standby.startupPid();
		try (LockScenario onPrimary = new LockScenario(primary, PostgresServer.DEFAULT_DATABASE, "conflict-primary");
				LockScenario onStandby = new LockScenario(standby.server(), PostgresServer.DEFAULT_DATABASE,
						"conflict-standby")) {
			// a report on the standby holds its read lock; the primary alters the table; replay must wait for the report
			LockScenario.Session report = onStandby.session("report");
			report.execute("BEGIN; SELECT count(*) FROM reported");
			onPrimary.session("migration").execute("ALTER TABLE reported ADD COLUMN note text");
			await().atMost(Duration.ofSeconds(10)).until(() -> targets.get("orders-replica").standby() != null
					&& "Lock: relation".equals(targets.get("orders-replica").standby().replayWait()));
			assertThat(gauge(meters, "pglockwatch.standby.replay.waiting", "orders-replica")).isEqualTo(1.0);
			// readers that come after it queue behind replay
			for (int i = 1; i <= 3; i++) {
				onStandby.session("late" + i).submit("SELECT count(*) FROM reported");
			}
			LockWaitGraph graph = await().atMost(Duration.ofSeconds(5))
				.until(() -> targets.get("orders-replica").freshGraph(),
						(g) -> g != null && g.ddlQueues().stream().anyMatch((q) -> q.pid() == startup && q.queueDepth() == 3));
			assertThat(graph.edges()).anyMatch((e) -> e.waiterPid() == startup && e.blockerPid() == report.pid());
			await().atMost(Duration.ofSeconds(10)).until(() -> active(IncidentKind.DDL_LOCK_QUEUE) != null);
			// the guard's cancel-ddl-after (1 s) has passed: it skipped the startup process, saying why
			Incident queue = active(IncidentKind.DDL_LOCK_QUEUE);
			await().atMost(Duration.ofSeconds(10))
				.until(() -> !app.getBean(GuardLog.class).forIncident(queue.dedupKey()).isEmpty());
			assertThat(app.getBean(GuardLog.class).forIncident(queue.dedupKey())).allSatisfy((record) -> {
				assertThat(record.pid()).isEqualTo(startup);
				assertThat(record.outcome().label()).isEqualTo("skipped");
				assertThat(record.reason()).contains("startup process replays WAL");
			});
			assertThat(standby.startupPid()).isEqualTo(startup);

			report.execute("COMMIT");
			onStandby.awaitNoWaiters(Duration.ofSeconds(10));
			await().atMost(Duration.ofSeconds(10))
				.until(() -> gauge(meters, "pglockwatch.standby.replay.waiting", "orders-replica") == 0.0);
		}
	}

	private static Incident active(IncidentKind kind) {
		app.getBean(IncidentRecorder.class).flush(Duration.ofSeconds(5));
		return app.getBean(IncidentStore.class)
			.find(new IncidentQuery(null, "orders-replica", kind, 10))
			.stream()
			.filter((incident) -> incident.state() != IncidentState.RESOLVED)
			.findFirst()
			.orElse(null);
	}

	private static double gauge(MeterRegistry meters, String name, String target) {
		return meters.get(name).tag("target", target).gauge().value();
	}

}
