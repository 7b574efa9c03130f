package io.pglockwatch.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalLong;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import javax.sql.DataSource;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pglockwatch.testsupport.StoreDatabase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.jdbc.core.simple.JdbcClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@link Leadership} on a real PostgreSQL store, with replicas as instances in this JVM, each with a data source of
 * its own, and on H2 as a cluster of one. Leases are 2 s (the shortest allowed), so replicas renew every 667 ms and
 * stop leading by their own clock 1.67 s after the start of their last renewal.
 */
class LeadershipTests {

	private static final String DATABASE = "leadership_it";

	private static final Duration LEASE = Duration.ofSeconds(2);

	private static final Duration RENEW = LEASE.dividedBy(3);

	/** Room for statements, thread wake-ups and a busy machine on top of a bound that the design promises. */
	private static final Duration SLACK = Duration.ofMillis(700);

	private final List<Replica> replicas = new ArrayList<>();

	private final CountDownLatch unblock = new CountDownLatch(1);

	@BeforeAll
	static void migrate() {
		StoreDatabase.POSTGRESQL.recreateSchema(DATABASE);
		StoreDatabase.H2.recreateSchema(DATABASE);
	}

	@BeforeEach
	void noLeases() {
		for (StoreDatabase database : StoreDatabase.values()) {
			JdbcClient jdbc = JdbcClient.create(database.newDataSource(DATABASE));
			jdbc.sql("DELETE FROM cluster_lease").update();
			jdbc.sql("DELETE FROM cluster_member").update();
		}
	}

	@AfterEach
	void stopReplicas() {
		this.unblock.countDown();
		this.replicas.forEach((replica) -> replica.leadership.stop());
	}

	@Test
	void exactlyOneOfThreeReplicasLeadsTheShard() {
		List<Replica> three = List.of(start("a", 1), start("b", 1), start("c", 1));

		await().atMost(RENEW.plus(SLACK)).until(() -> leaders(three, 0) == 1);
		await().during(LEASE.plus(RENEW)).atMost(LEASE.multipliedBy(3)).until(() -> leaders(three, 0) == 1);
		Replica leader = leaderOf(three, 0);
		assertThat(leader.leadership.epoch(0)).hasValue(1);
		assertThat(leader.events).containsExactly("gained 0 1");
		three.stream().filter((r) -> r != leader).forEach((r) -> {
			assertThat(r.leadership.epoch(0)).isEmpty();
			assertThat(r.events).isEmpty();
			assertThat(r.leadership.snapshot()).containsOnlyKeys(0)
				.hasEntrySatisfying(0, (state) -> {
					assertThat(state.leader()).isEqualTo(leader.name);
					assertThat(state.epoch()).isEqualTo(1);
					assertThat(state.thisReplica()).isFalse();
				});
		});
		assertThat(leader.leadership.snapshot().get(0).thisReplica()).isTrue();
	}

	@Test
	void aLeaderThatDiesIsSucceededWithinALeaseAndARenewIntervalAtAHigherEpoch() {
		List<Replica> two = List.of(start("a", 1), start("b", 1));
		await().atMost(RENEW.plus(SLACK)).until(() -> leaders(two, 0) == 1);
		Replica leader = leaderOf(two, 0);
		Replica other = two.stream().filter((r) -> r != leader).findFirst().orElseThrow();
		long epoch = leader.leadership.epoch(0).getAsLong();

		// a hard stop: no more rounds, no release
		leader.leadership.scheduler().getScheduledExecutor().shutdownNow();

		await().atMost(LEASE.plus(RENEW).plus(SLACK)).pollInterval(Duration.ofMillis(20))
			.until(() -> other.leadership.leads(0));
		assertThat(other.leadership.epoch(0)).hasValue(epoch + 1);
		assertThat(other.events).containsExactly("gained 0 " + (epoch + 1));
		// the dead leader never learned it lost, yet by its own clock it no longer leads
		assertThat(leader.leadership.leads(0)).isFalse();
		assertThat(leader.leadership.epoch(0)).isEmpty();
		assertThat(leader.events).containsExactly("gained 0 " + epoch);
	}

	@Test
	void aPausedLeaderStopsLeadingByItsOwnClockBeforeAnotherReplicaTakesOver() throws Exception {
		List<Replica> two = List.of(start("a", 1), start("b", 1));
		await().atMost(RENEW.plus(SLACK)).until(() -> leaders(two, 0) == 1);
		Replica leader = leaderOf(two, 0);
		Replica other = two.stream().filter((r) -> r != leader).findFirst().orElseThrow();
		long epoch = leader.leadership.epoch(0).getAsLong();

		// a long GC pause, as the election's thread sees it: it runs nothing until it is let go
		CountDownLatch blocked = new CountDownLatch(1);
		CountDownLatch resume = new CountDownLatch(1);
		leader.leadership.scheduler().execute(() -> {
			blocked.countDown();
			try {
				resume.await(30, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		});
		assertThat(blocked.await(5, TimeUnit.SECONDS)).isTrue();

		// both never lead at once: the paused one gives up half a renew interval before its lease lapses
		await().atMost(LEASE.plus(RENEW).plus(SLACK)).pollInterval(Duration.ofMillis(10)).until(() -> {
			boolean taken = other.leadership.leads(0);
			assertThat(taken && leader.leadership.leads(0)).as("two leaders at once").isFalse();
			return taken;
		});
		assertThat(leader.leadership.leads(0)).isFalse();
		assertThat(leader.events).as("no round has run to tell it").containsExactly("gained 0 " + epoch);
		assertThat(other.leadership.epoch(0)).hasValue(epoch + 1);

		// let go, its next round finds the lease taken and tells its listeners
		resume.countDown();
		await().atMost(RENEW.plus(SLACK)).until(() -> leader.events.size() == 2);
		assertThat(leader.events).containsExactly("gained 0 " + epoch, "lost 0 " + epoch);
		assertThat(leader.leadership.leads(0)).isFalse();
		assertThat(other.leadership.leads(0)).isTrue();
	}

	@Test
	void aLeaderThatStopsReleasesSoAnotherLeadsAtOnce() {
		List<Replica> two = List.of(start("a", 1), start("b", 1));
		await().atMost(RENEW.plus(SLACK)).until(() -> leaders(two, 0) == 1);
		Replica leader = leaderOf(two, 0);
		Replica other = two.stream().filter((r) -> r != leader).findFirst().orElseThrow();
		long epoch = leader.leadership.epoch(0).getAsLong();

		leader.leadership.stop();
		assertThat(leader.leadership.leads(0)).isFalse();
		assertThat(leader.events).containsExactly("gained 0 " + epoch, "lost 0 " + epoch);

		// the next round of the other replica takes it, well before the lease would have lapsed
		await().atMost(RENEW.plus(SLACK)).until(() -> other.leadership.leads(0));
		assertThat(other.leadership.epoch(0)).hasValue(epoch + 1);
	}

	@Test
	void everyOneOfFourShardsHasExactlyOneLeaderAmongTwoReplicas() {
		List<Replica> two = List.of(start("a", 4), start("b", 4));
		SimpleMeterRegistry registry = new SimpleMeterRegistry();
		two.get(0).leadership.bindTo(registry);

		awaitSpread(two, 2, 2);
		await().during(LEASE).atMost(LEASE.multipliedBy(3))
			.until(() -> IntStream.range(0, 4).allMatch((s) -> leaders(two, s) == 1));
		// after a round of each, both replicas know who leads what
		await().atMost(RENEW.plus(SLACK)).untilAsserted(() -> {
			Map<Integer, ShardState> a = two.get(0).leadership.snapshot();
			Map<Integer, ShardState> b = two.get(1).leadership.snapshot();
			assertThat(a).containsOnlyKeys(0, 1, 2, 3);
			assertThat(b).containsOnlyKeys(0, 1, 2, 3);
			IntStream.range(0, 4).forEach((s) -> {
				assertThat(a.get(s).leader()).isEqualTo(b.get(s).leader());
				assertThat(a.get(s).epoch()).isEqualTo(b.get(s).epoch());
				assertThat(a.get(s).thisReplica()).isNotEqualTo(b.get(s).thisReplica());
			});
		});
		IntStream.range(0, 4).forEach((s) -> {
			boolean leads = two.get(0).leadership.leads(s);
			assertThat(registry.get("pglockwatch.cluster.leader").tag("shard", Integer.toString(s)).gauge().value())
				.isEqualTo(leads ? 1.0 : 0.0);
			assertThat(registry.get("pglockwatch.cluster.leadership.changes").tag("shard", Integer.toString(s))
				.functionCounter()
				.count()).isEqualTo(leads ? 1.0 : 0.0);
		});
	}

	@Test
	void twoReplicasLeadTwoOfFourShardsEachAndAThirdTakesOneOfThem() {
		List<Replica> two = new ArrayList<>(List.of(start("a", 4), start("b", 4)));
		SimpleMeterRegistry registry = new SimpleMeterRegistry();
		two.get(0).leadership.bindTo(registry);

		// whoever comes first takes every shard, then hands the extra ones over one per round
		awaitSpread(two, 2, 2);
		await().during(LEASE).atMost(LEASE.multipliedBy(3)).until(() -> spread(two).equals(List.of(2, 2)));
		assertThat(registry.get("pglockwatch.cluster.members").gauge().value()).isEqualTo(2.0);
		assertThat(two.get(0).leadership.members()).extracting(Member::name).containsExactly("a", "b");
		assertThat(two.get(0).leadership.members()).allSatisfy((m) -> assertThat(m.shards()).hasSize(2));

		List<Replica> three = new ArrayList<>(two);
		three.add(start("c", 4));
		awaitSpreadWithoutAGap(three, 2, 1, 1);
		await().during(LEASE).atMost(LEASE.multipliedBy(3)).until(() -> spread(three).equals(List.of(2, 1, 1)));
		assertThat(three.get(2).leadership.members()).extracting(Member::name).containsExactly("a", "b", "c");
		assertThat(registry.get("pglockwatch.cluster.members").gauge().value()).isEqualTo(3.0);
	}

	@Test
	void theShardsOfAReplicaThatDiesAreSpreadOverTheOthers() {
		List<Replica> three = List.of(start("a", 4), start("b", 4), start("c", 4));
		awaitSpread(three, 2, 1, 1);
		Replica dead = three.stream().filter((r) -> led(r) == 2).findFirst().orElseThrow();
		List<Replica> alive = three.stream().filter((r) -> r != dead).toList();

		// a hard stop: no more rounds, no release, its row stays
		dead.leadership.scheduler().getScheduledExecutor().shutdownNow();

		await().atMost(LEASE.plus(RENEW).plus(SLACK)).pollInterval(Duration.ofMillis(20))
			.until(() -> IntStream.range(0, 4).allMatch((s) -> leaders(alive, s) == 1));
		awaitSpread(alive, 2, 2);
		// members() is the store as read at the start of the last round: the dead replica is gone, the shards follow
		await().atMost(RENEW.multipliedBy(2).plus(SLACK)).untilAsserted(() -> alive.forEach((r) -> {
			assertThat(r.leadership.members()).extracting(Member::name)
				.containsExactlyElementsOf(alive.stream().map(Replica::name).toList());
			assertThat(r.leadership.members()).allSatisfy((m) -> assertThat(m.shards()).hasSize(2));
		}));
	}

	@Test
	void aReplicaThatStopsLeavesTheMembersAtOnce() {
		List<Replica> two = List.of(start("a", 2), start("b", 2));
		awaitSpread(two, 1, 1);
		Replica stays = two.get(0);

		two.get(1).leadership.stop();

		await().atMost(RENEW.plus(SLACK)).untilAsserted(() -> {
			assertThat(stays.leadership.members()).extracting(Member::name).containsExactly("a");
			assertThat(led(stays)).isEqualTo(2);
		});
	}

	@Test
	void anH2StoreIsAClusterOfOneThatLeadsEveryShard() {
		Replica only = start(StoreDatabase.H2, "only", 3);

		await().atMost(RENEW.plus(SLACK)).until(() -> IntStream.range(0, 3).allMatch(only.leadership::leads));
		assertThat(only.events).containsExactlyInAnyOrder("gained 0 1", "gained 1 1", "gained 2 1");
		await().during(LEASE).atMost(LEASE.multipliedBy(3))
			.until(() -> IntStream.range(0, 3).allMatch(only.leadership::leads));
		assertThat(only.events).hasSize(3);

		only.leadership.stop();
		assertThat(IntStream.range(0, 3).noneMatch(only.leadership::leads)).isTrue();
		assertThat(only.lease.current(0).orElseThrow().epoch()).isEqualTo(1);
		assertThat(only.lease.tryAcquireOrRenew(0).orElseThrow().epoch()).as("released, so taken again").isEqualTo(2);
	}

	/**
	 * Waits until the replicas lead the given numbers of shards (in any order), checking at every look that no two
	 * replicas lead a shard with the same epoch. A shard handed over has two leaders for a moment: the member it was
	 * offered to takes it with the next epoch, and the one that offered it learns at its next renewal, writes of its
	 * epoch refused meanwhile.
	 */
	private static void awaitSpread(List<Replica> replicas, Integer... counts) {
		List<Integer> expected = List.of(counts).stream().sorted(Comparator.reverseOrder()).toList();
		await().atMost(RENEW.multipliedBy(12).plus(SLACK)).pollInterval(Duration.ofMillis(20)).until(() -> {
			IntStream.range(0, replicas.get(0).shards()).forEach((s) -> {
				List<Long> epochs = replicas.stream()
					.map((r) -> r.leadership.epoch(s))
					.filter(OptionalLong::isPresent)
					.map(OptionalLong::getAsLong)
					.toList();
				assertThat(epochs).as("epochs of the leaders of shard " + s).doesNotHaveDuplicates();
			});
			return spread(replicas).equals(expected);
		});
	}

	/** Waits for the spread, checking at every look that every shard has a leader: a hand-over leaves no gap. */
	private static void awaitSpreadWithoutAGap(List<Replica> replicas, Integer... counts) {
		List<Integer> expected = List.of(counts).stream().sorted(Comparator.reverseOrder()).toList();
		await().atMost(RENEW.multipliedBy(12).plus(SLACK)).pollInterval(Duration.ofMillis(10)).until(() -> {
			IntStream.range(0, replicas.get(0).shards())
				.forEach((s) -> assertThat(leaders(replicas, s)).as("leaders of shard " + s).isPositive());
			return spread(replicas).equals(expected);
		});
	}

	/** How many shards each replica leads, most first. */
	private static List<Integer> spread(List<Replica> replicas) {
		return replicas.stream().map(LeadershipTests::led).sorted(Comparator.reverseOrder()).toList();
	}

	private static int led(Replica replica) {
		return (int) replica.leadership.snapshot().values().stream().filter(ShardState::thisReplica).count();
	}

	private static long leaders(List<Replica> replicas, int shard) {
		return replicas.stream().filter((r) -> r.leadership.leads(shard)).count();
	}

	private static Replica leaderOf(List<Replica> replicas, int shard) {
		return replicas.stream().filter((r) -> r.leadership.leads(shard)).findFirst().orElseThrow();
	}

	private Replica start(String name, int shards) {
		return start(StoreDatabase.POSTGRESQL, name, shards);
	}

	private Replica start(StoreDatabase database, String name, int shards) {
		ClusterProperties properties = new ClusterProperties(name, LEASE, shards);
		DataSource dataSource = database.newDataSource(DATABASE);
		ClusterLease lease = new ClusterLease(dataSource, properties);
		List<String> events = new CopyOnWriteArrayList<>();
		LeadershipListener listener = new LeadershipListener() {

			@Override
			public void onLeadershipGained(int shard, long epoch) {
				events.add("gained " + shard + " " + epoch);
			}

			@Override
			public void onLeadershipLost(int shard, long epoch) {
				events.add("lost " + shard + " " + epoch);
			}

		};
		Leadership leadership = new Leadership(lease, new ClusterMembers(dataSource, properties), properties,
				new StaticListableBeanFactory(Map.of("listener", listener)).getBeanProvider(LeadershipListener.class));
		Replica replica = new Replica(name, shards, lease, leadership, events);
		this.replicas.add(replica);
		leadership.start();
		return replica;
	}

	/** One run of the service: its lease on a data source of its own, its election and what its listener heard. */
	private record Replica(String name, int shards, ClusterLease lease, Leadership leadership, List<String> events) {
	}

}
