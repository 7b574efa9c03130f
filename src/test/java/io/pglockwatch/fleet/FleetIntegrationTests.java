package io.pglockwatch.fleet;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

import io.pglockwatch.cluster.Shards;
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

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A fleet: three replicas of pg-lockwatch, each a process of its own, on one PostgreSQL store, with four shards and
 * nine targets. Every shard is led once, spread 2/1/1; each replica polls only the targets of the shards it leads and
 * answers for all nine. One ALTER TABLE queue that all nine targets see (they read one server) opens one incident per
 * target, each paged once. The replica leading two shards is killed (SIGKILL): its shards are led by the others
 * within the lease and a poll, every incident resolves once and nothing is paged twice. Started again, it takes back
 * its share, and no shard is without a leader meanwhile.
 */
class FleetIntegrationTests {

	private static final String ROUTING_KEY = "R0UT1NGKEYf1eet00000000000000000";

	private static final String STORE = "lockwatch_fleet_store";

	private static final Duration LEASE = Duration.ofSeconds(4);

	private static final int SHARDS = 4;

	/** Three or four replicas, the database and the test on a loaded 2-core machine. */
	private static final Duration SLACK = Duration.ofMillis(2000);

	/** Names chosen so that every one of the four shards has a target: 1, 2, 4 and 2 of them. */
	private static final List<String> TARGETS = List.of("ledger", "users", "audit", "orders", "billing", "events",
			"payments", "search", "catalog");

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private static final PostgresServer server = PostgresServer.shared();

	private static FakePagerDuty pagerDuty;

	private static Map<String, String> properties;

	private final List<ServiceProcess> replicas = new ArrayList<>();

	@BeforeAll
	static void setUp() {
		pagerDuty = FakePagerDuty.start(ROUTING_KEY);
		StoreDatabase.POSTGRESQL.recreateSchema(STORE);
		properties = new LinkedHashMap<>(LabService.properties(server));
		properties.keySet().removeIf((key) -> key.startsWith("pglockwatch.targets["));
		for (int i = 0; i < TARGETS.size(); i++) {
			String prefix = "pglockwatch.targets[" + i + "].";
			properties.put(prefix + "name", TARGETS.get(i));
			properties.put(prefix + "url", server.jdbcUrl(PostgresServer.DEFAULT_DATABASE));
			properties.put(prefix + "username", server.superuser());
			properties.put(prefix + "password", server.password());
		}
		properties.put("spring.datasource.url", server.jdbcUrl(STORE));
		properties.put("spring.datasource.username", server.superuser());
		properties.put("spring.datasource.password", server.password());
		properties.put("pglockwatch.cluster.lease", LEASE.toMillis() + "ms");
		properties.put("pglockwatch.cluster.shards", Integer.toString(SHARDS));
		properties.put("pglockwatch.detection.ddl-queue.min-queued", "3");
		properties.put("pglockwatch.detection.ddl-queue.min-wait", "1s");
		properties.put("pglockwatch.detection.resolve-after", "2s");
		properties.put("pglockwatch.alerts.pagerduty.routing-key", ROUTING_KEY);
		properties.put("pglockwatch.alerts.pagerduty.url", pagerDuty.url());
		properties.put("pglockwatch.alerts.dashboard-url", "https://pglockwatch.example");
	}

	@AfterAll
	static void tearDown() {
		pagerDuty.close();
	}

	@AfterEach
	void stopReplicas() {
		this.replicas.forEach(ServiceProcess::close);
	}

	@Test
	void threeReplicasShareFourShardsOfNineTargetsPageEachIncidentOnceAndHandOverWithoutAGap() throws Exception {
		assertThat(TARGETS.stream().map((t) -> Shards.of(t, SHARDS)).collect(Collectors.toSet()))
			.containsExactlyInAnyOrder(0, 1, 2, 3);
		ServiceProcess first = start("fleet-a");
		await("fleet-a leads every shard").atMost(Duration.ofSeconds(30)).until(() -> led(first).size() == SHARDS);
		start("fleet-b");
		start("fleet-c");
		await("every shard led once, 2/1/1").atMost(Duration.ofSeconds(60))
			.pollInterval(Duration.ofMillis(200))
			.until(() -> spread(this.replicas).equals(List.of(2, 1, 1)) && everyShardLedOnce(this.replicas));

		// each replica polls the targets of its shards only, and answers for all nine with who watches each
		Map<Integer, String> leaders = leaders(this.replicas);
		for (ServiceProcess replica : this.replicas) {
			Set<String> own = TARGETS.stream()
				.filter((t) -> replica.name().equals(leaders.get(Shards.of(t, SHARDS))))
				.collect(Collectors.toCollection(TreeSet::new));
			await(replica.name() + " exports the series of its own targets only").atMost(Duration.ofSeconds(10))
				.until(() -> polledTargets(replica).equals(own));
			await(replica.name() + " shows all nine targets up").atMost(Duration.ofSeconds(15))
				.until(() -> targetsUpSeenBy(replica) == TARGETS.size());
			for (JsonNode target : targets(replica)) {
				int shard = target.path("shard").asInt();
				assertThat(shard).isEqualTo(Shards.of(target.path("name").asString(), SHARDS));
				assertThat(target.path("watchedBy").asString()).isEqualTo(leaders.get(shard));
			}
		}

		try (LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "fleet")) {
			LockScenario.DdlQueue queue = scenario.stageDdlQueue("accounts", "ADD COLUMN fleet_note text", 4);
			List<FakePagerDuty.Event> triggers = pagerDuty.awaitEvents(TARGETS.size(), Duration.ofSeconds(30));
			assertThat(triggers).extracting(FakePagerDuty.Event::action).containsOnly("trigger");
			assertThat(triggers).extracting(FakePagerDuty.Event::dedupKey).doesNotHaveDuplicates();
			assertThat(triggers.stream().map((e) -> e.dedupKey().substring(0, e.dedupKey().indexOf('/'))))
				.containsExactlyInAnyOrderElementsOf(TARGETS);
			// any replica shows the live graph of a target another replica polls, from the state it published
			for (ServiceProcess replica : this.replicas) {
				String other = TARGETS.stream()
					.filter((t) -> !replica.name().equals(leaders.get(Shards.of(t, SHARDS))))
					.findFirst()
					.orElseThrow();
				await(replica.name() + " shows the queue on " + other).atMost(Duration.ofSeconds(10))
					.until(() -> ddlQueueDepth(replica, other) >= 3);
			}

			ServiceProcess dead = this.replicas.stream().filter((r) -> led(r).size() == 2).findFirst().orElseThrow();
			Set<Integer> itsShards = led(dead);
			List<ServiceProcess> alive = this.replicas.stream().filter((r) -> r != dead).toList();
			long killed = System.nanoTime();
			dead.kill();
			await("the shards of " + dead.name() + " are led by the others").atMost(LEASE.plus(LabService.POLL).plus(SLACK))
				.pollInterval(Duration.ofMillis(50))
				.until(() -> alive.stream().flatMap((r) -> led(r).stream()).collect(Collectors.toSet()).size() == SHARDS);
			Duration moved = Duration.ofNanos(System.nanoTime() - killed);
			System.out.println("the shards " + itsShards + " of " + dead.name() + " were led by the others "
					+ moved.toMillis() + " ms after it was killed (lease " + LEASE.toMillis() + " ms, poll "
					+ LabService.POLL.toMillis() + " ms)");
			this.replicas.remove(dead);

			queue.holder().execute("ROLLBACK");
			queue.alter().get(30, java.util.concurrent.TimeUnit.SECONDS);
			List<FakePagerDuty.Event> all = pagerDuty.awaitEvents(2 * TARGETS.size(), Duration.ofSeconds(40));
			Thread.sleep(3000); // a quiet while more: nothing else arrives
			all = pagerDuty.events();
			Map<String, List<String>> byKey = new TreeMap<>();
			all.forEach((e) -> byKey.computeIfAbsent(e.dedupKey(), (k) -> new ArrayList<>()).add(e.action()));
			assertThat(byKey).hasSize(TARGETS.size());
			assertThat(byKey.values()).allSatisfy((actions) -> assertThat(actions).containsExactly("trigger", "resolve"));
			assertThat(pagerDuty.violations()).isEmpty();

			// started again, it takes back its share; at no look is a shard without a leader
			ServiceProcess back = start(dead.name());
			int gaps = 0;
			int looks = 0;
			Set<Integer> unledBefore = Set.of();
			long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
			while (!(spread(this.replicas).equals(List.of(2, 1, 1)) && everyShardLedOnce(this.replicas)
					&& !led(back).isEmpty())) {
				assertThat(System.nanoTime()).as("the share of " + back.name() + " taken back").isLessThan(deadline);
				Set<Integer> unled = new TreeSet<>(Set.of(0, 1, 2, 3));
				this.replicas.forEach((r) -> unled.removeAll(led(r)));
				// looks at the replicas one after another: a shard counts as unled when two looks in a row say so
				if (unled.stream().anyMatch(unledBefore::contains)) {
					gaps++;
				}
				unledBefore = unled;
				looks++;
				Thread.sleep(50);
			}
			System.out.println(back.name() + " took back " + led(back) + " after " + looks + " looks, gaps: " + gaps);
			assertThat(gaps).isZero();
		}
	}

	private ServiceProcess start(String name) {
		ServiceProcess replica = ServiceProcess.start(name, properties);
		this.replicas.add(replica);
		return replica;
	}

	private static JsonNode cluster(ServiceProcess replica) {
		ServiceProcess.Answer answer = replica.get("/api/v1/cluster");
		assertThat(answer.status()).as(answer.body()).isEqualTo(200);
		return JSON.readTree(answer.body());
	}

	/** The shards the replica says it leads now. */
	private static Set<Integer> led(ServiceProcess replica) {
		Set<Integer> led = new TreeSet<>();
		for (JsonNode shard : cluster(replica).path("shards")) {
			if (shard.path("thisReplica").asBoolean()) {
				led.add(shard.path("shard").asInt());
			}
		}
		return led;
	}

	private static List<Integer> spread(List<ServiceProcess> replicas) {
		return replicas.stream().map((r) -> led(r).size()).sorted(Comparator.reverseOrder()).toList();
	}

	private static boolean everyShardLedOnce(List<ServiceProcess> replicas) {
		List<Integer> all = replicas.stream().flatMap((r) -> led(r).stream()).sorted().toList();
		return all.equals(List.of(0, 1, 2, 3));
	}

	private static Map<Integer, String> leaders(List<ServiceProcess> replicas) {
		Map<Integer, String> leaders = new HashMap<>();
		replicas.forEach((r) -> led(r).forEach((s) -> leaders.put(s, r.name())));
		return leaders;
	}

	private static List<JsonNode> targets(ServiceProcess replica) {
		ServiceProcess.Answer answer = replica.get("/api/v1/targets");
		assertThat(answer.status()).as(answer.body()).isEqualTo(200);
		List<JsonNode> targets = new ArrayList<>();
		JSON.readTree(answer.body()).forEach(targets::add);
		assertThat(targets).hasSize(TARGETS.size());
		return targets;
	}

	private static long targetsUpSeenBy(ServiceProcess replica) {
		return targets(replica).stream().filter((t) -> t.path("up").asBoolean()).count();
	}

	private static int ddlQueueDepth(ServiceProcess replica, String target) {
		ServiceProcess.Answer answer = replica.get("/api/v1/targets/" + target);
		return JSON.readTree(answer.body()).path("ddlQueueDepth").asInt();
	}

	/** The targets whose series the replica exports: those it polls. */
	private static Set<String> polledTargets(ServiceProcess replica) {
		Set<String> polled = new TreeSet<>();
		for (String line : replica.get("/actuator/prometheus").body().split("\n")) {
			if (line.startsWith("pglockwatch_target_up{")) {
				polled.add(line.substring(line.indexOf("target=\"") + 8, line.indexOf('"', line.indexOf("target=\"") + 8)));
			}
		}
		return polled;
	}

}
