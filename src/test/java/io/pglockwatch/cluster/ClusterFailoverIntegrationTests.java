package io.pglockwatch.cluster;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.pglockwatch.testsupport.FakePagerDuty;
import io.pglockwatch.testsupport.LabService;
import io.pglockwatch.testsupport.LockScenario;
import io.pglockwatch.testsupport.PostgresServer;
import io.pglockwatch.testsupport.ServiceProcess;
import io.pglockwatch.testsupport.StoreDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.jdbc.core.simple.JdbcClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

/**
 * Two replicas of pg-lockwatch, each a process of its own, on one PostgreSQL store, watching one PostgreSQL target
 * where an ALTER TABLE queue forms for real: one leads; the queue gives one incident, one trigger and one guard
 * decision; the leader is killed (SIGKILL) mid-incident and the other leads within the lease and a poll, continues the
 * incident under its id, never triggers again, cancels the DDL once when the guard's time comes and resolves once. And
 * a store that stops answering: nobody leads (each says so), polling goes on, and one leads again when it is back.
 */
class ClusterFailoverIntegrationTests {

	private static final String ROUTING_KEY = "R0UT1NGKEYc1usterfa11over0000000";

	private static final String STORE = "lockwatch_cluster_store";

	private static final Duration LEASE = Duration.ofSeconds(4);

	/** A loaded 2-core machine runs the two replicas, the database and the test. */
	private static final Duration SLACK = Duration.ofMillis(1500);

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private static final PostgresServer server = PostgresServer.shared();

	private static FakePagerDuty pagerDuty;

	private static Map<String, String> properties;

	private static JdbcClient store;

	private ServiceProcess a;

	private ServiceProcess b;

	@BeforeAll
	static void setUp() {
		pagerDuty = FakePagerDuty.start(ROUTING_KEY);
		StoreDatabase.POSTGRESQL.recreateSchema(STORE);
		store = JdbcClient.create(StoreDatabase.POSTGRESQL.newDataSource(STORE));
		properties = new LinkedHashMap<>(LabService.properties(server));
		properties.put("spring.datasource.url", server.jdbcUrl(STORE));
		properties.put("spring.datasource.username", server.superuser());
		properties.put("spring.datasource.password", server.password());
		properties.put("pglockwatch.cluster.lease", LEASE.toMillis() + "ms");
		properties.put("pglockwatch.detection.ddl-queue.min-queued", "3");
		properties.put("pglockwatch.detection.ddl-queue.min-wait", "1s");
		properties.put("pglockwatch.detection.resolve-after", "2s");
		properties.put("pglockwatch.alerts.pagerduty.routing-key", ROUTING_KEY);
		properties.put("pglockwatch.alerts.pagerduty.url", pagerDuty.url());
		properties.put("pglockwatch.alerts.dashboard-url", "https://pglockwatch.example");
		properties.put("pglockwatch.guard.mode", "enforce");
		properties.put("pglockwatch.guard.cancel-ddl-after", "9s");
	}

	@AfterAll
	static void tearDown() {
		pagerDuty.close();
	}

	@AfterEach
	void stopReplicas() {
		for (ServiceProcess replica : new ServiceProcess[] { this.a, this.b }) {
			if (replica != null) {
				replica.close();
			}
		}
		allowConnections(true);
	}

	@Test
	void aLeaderKilledMidIncidentIsFollowedWithinALeaseAndAPollAndNothingHappensTwice() throws Exception {
		this.a = ServiceProcess.start("replica-a", properties);
		await("replica-a leads").atMost(Duration.ofSeconds(30)).until(() -> leads(this.a));
		this.b = ServiceProcess.start("replica-b", properties);
		await("replica-b sees replica-a lead, and both members").atMost(Duration.ofSeconds(30))
			.until(() -> "replica-a".equals(leaderSeenBy(this.b)) && members(this.b) == 2);
		assertThat(leads(this.b)).isFalse();

		try (LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "failover")) {
			LockScenario.DdlQueue queue = scenario.stageDdlQueue("accounts", "ADD COLUMN failover_note text", 4);
			FakePagerDuty.Event trigger = pagerDuty.awaitEvents(1, Duration.ofSeconds(20)).get(0);
			assertThat(trigger.action()).isEqualTo("trigger");
			String dedupKey = trigger.dedupKey();
			assertThat(trigger.json().path("payload").path("custom_details").path("eventId").asString()).isNotBlank();
			String incidentId = await("the incident stored").atMost(Duration.ofSeconds(10))
				.until(() -> incidentIds(dedupKey), (ids) -> ids.size() == 1)
				.get(0);
			// replica-b, the follower, shows the target and the incident it reads from the store
			await("the follower shows the open incident").atMost(Duration.ofSeconds(10))
				.until(() -> openIncidentsSeenBy(this.b) == 1);
			assertThat(watchedBy(this.b)).isEqualTo("replica-a");
			assertThat(this.b.get("/").body()).contains("Replica replica-b of 2; another replica records")
				.contains("recorded by replica-a");

			long epochOfA = epoch(this.b);
			long killed = System.nanoTime();
			this.a.kill();
			await("replica-b leads").atMost(LEASE.plus(LabService.POLL).plus(SLACK))
				.pollInterval(Duration.ofMillis(50))
				.until(() -> leads(this.b));
			Duration takeover = Duration.ofNanos(System.nanoTime() - killed);
			System.out.println("replica-b led " + takeover.toMillis() + " ms after replica-a was killed");
			assertThat(epoch(this.b)).isEqualTo(epochOfA + 1);

			// the guard's time comes while replica-b leads: the DDL is cancelled, once, and the incident resolves
			queue.alter().handle((ok, failure) -> null).get(30, TimeUnit.SECONDS);
			assertThat(queue.alter()).isCompletedExceptionally();
			queue.holder().execute("ROLLBACK");
			List<FakePagerDuty.Event> events = pagerDuty.awaitEvents(2, Duration.ofSeconds(20));
			assertThat(events.get(1).action()).isEqualTo("resolve");
			// a quiet while more: nothing else arrives
			Thread.sleep(3000);
			assertThat(pagerDuty.events()).extracting(FakePagerDuty.Event::action, FakePagerDuty.Event::dedupKey)
				.containsExactly(tuple("trigger", dedupKey),
						tuple("resolve", dedupKey));
			assertThat(pagerDuty.violations()).isEmpty();
			assertThat(incidentIds(dedupKey)).containsExactly(incidentId);
			assertThat(store.sql("SELECT state FROM incident WHERE id = :id").param("id", incidentId)
				.query(String.class).single()).isEqualTo("resolved");
			List<Map<String, Object>> decisions = store.sql("""
					SELECT action, outcome, pid FROM guard_action WHERE dedup_key = :key AND actor = 'guard'
					""").param("key", dedupKey).query().listOfRows();
			assertThat(decisions).hasSize(1);
			assertThat(decisions.get(0)).containsEntry("action", "cancel-ddl").containsEntry("outcome", "cancelled")
				.containsEntry("pid", queue.ddl().pid());
			assertThat(store.sql("SELECT claimed_by FROM guard_claim WHERE pid = :pid")
				.param("pid", queue.ddl().pid()).query(String.class).list()).containsExactly("replica-b");
			assertThat(store.sql("SELECT count(*) FROM alert_outbox WHERE dedup_key = :key AND state = 'sent'")
				.param("key", dedupKey).query(Long.class).single()).isEqualTo(2);
		}
	}

	@Test
	void aStoreThatStopsAnsweringStopsTheLeaderAndOneLeadsAgainWhenItIsBack() {
		this.a = ServiceProcess.start("replica-a", properties);
		this.b = ServiceProcess.start("replica-b", properties);
		await("one replica leads").atMost(Duration.ofSeconds(30)).until(() -> leads(this.a) ^ leads(this.b));
		ServiceProcess leader = leads(this.a) ? this.a : this.b;
		ServiceProcess follower = (leader == this.a) ? this.b : this.a;
		await("the target's series come from its leader only").atMost(Duration.ofSeconds(10))
			.until(() -> !follower.get("/actuator/prometheus").body().contains("pglockwatch_target_up{"));

		allowConnections(false);
		await("nobody leads").atMost(LEASE.plus(SLACK)).pollInterval(Duration.ofMillis(100))
			.until(() -> !leads(this.a) && !leads(this.b));
		for (ServiceProcess replica : List.of(this.a, this.b)) {
			await(replica.name() + " says why in its health").atMost(Duration.ofSeconds(10))
				.until(() -> problem(replica) != null);
			assertThat(problem(replica)).contains("the store does not answer");
			String metrics = replica.get("/actuator/prometheus").body();
			assertThat(metrics).contains("pglockwatch_cluster_leader{shard=\"0\"} 0.0");
			assertThat(replica.log()).contains("The store does not answer");
		}
		// the replica that led goes on polling: the target's lock metrics and live view are still there
		assertThat(leader.get("/actuator/prometheus").body()).contains("pglockwatch_target_up{target=\"lab\"} 1.0");
		assertThat(follower.get("/actuator/prometheus").body()).doesNotContain("pglockwatch_target_up{");

		allowConnections(true);
		await("one replica leads again").atMost(LEASE.multipliedBy(3)).until(() -> leads(this.a) ^ leads(this.b));
		await("both know it").atMost(Duration.ofSeconds(10))
			.until(() -> leaderSeenBy(this.a) != null && leaderSeenBy(this.a).equals(leaderSeenBy(this.b)));
		assertThat(problem(this.a)).isNull();
	}

	private static JsonNode cluster(ServiceProcess replica) {
		ServiceProcess.Answer answer = replica.get("/api/v1/cluster");
		assertThat(answer.status()).as(answer.body()).isEqualTo(200);
		return JSON.readTree(answer.body());
	}

	private static boolean leads(ServiceProcess replica) {
		return cluster(replica).path("shards").path(0).path("thisReplica").asBoolean();
	}

	private static String leaderSeenBy(ServiceProcess replica) {
		JsonNode leader = cluster(replica).path("shards").path(0).path("leader");
		return leader.isNull() || leader.isMissingNode() ? null : leader.asString();
	}

	private static long epoch(ServiceProcess replica) {
		return cluster(replica).path("shards").path(0).path("epoch").asLong();
	}

	private static int members(ServiceProcess replica) {
		return cluster(replica).path("members").size();
	}

	private static String problem(ServiceProcess replica) {
		JsonNode problem = cluster(replica).path("problem");
		return problem.isNull() || problem.isMissingNode() ? null : problem.asString();
	}

	private static JsonNode lab(ServiceProcess replica) {
		ServiceProcess.Answer answer = replica.get("/api/v1/targets/lab");
		assertThat(answer.status()).as(answer.body()).isEqualTo(200);
		return JSON.readTree(answer.body());
	}

	private static int openIncidentsSeenBy(ServiceProcess replica) {
		return lab(replica).path("openIncidents").asInt();
	}

	private static String watchedBy(ServiceProcess replica) {
		return lab(replica).path("watchedBy").asString();
	}

	private static List<String> incidentIds(String dedupKey) {
		return store.sql("SELECT id FROM incident WHERE dedup_key = :key").param("key", dedupKey)
			.query(String.class).list();
	}

	private static void allowConnections(boolean allow) {
		server.allowConnections(STORE, allow);
	}

}
