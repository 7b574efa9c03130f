package io.pglockwatch.cluster;

import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import io.pglockwatch.testsupport.StoreDatabase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.awaitility.Awaitility.await;

/**
 * {@link ClusterLease} on each database the store may be: replicas are instances with data sources of their own on
 * one store, as two runs of the service would be. Leases are 2 s (the shortest allowed), so a lapse takes 2 s.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(StoreDatabase.class)
class ClusterLeaseTests {

	private static final String DATABASE = "cluster_lease_it";

	private static final Duration LEASE = Duration.ofSeconds(2);

	private static final int SHARDS = 64;

	private static final int SHARD = 0;

	@Parameter
	StoreDatabase database;

	private JdbcClient jdbc;

	private final List<ExecutorService> executors = new ArrayList<>();

	@BeforeParameterizedClassInvocation
	static void migrate(StoreDatabase database) {
		database.recreateSchema(DATABASE);
		// stands for any store table whose writes a leader fences: incidents, outbox claims, guard claims
		JdbcClient.create(database.newDataSource(DATABASE))
			.sql("CREATE TABLE fenced_write (shard INT NOT NULL, epoch BIGINT NOT NULL, note VARCHAR(100))")
			.update();
	}

	@BeforeEach
	void emptyTables() {
		this.jdbc = JdbcClient.create(this.database.newDataSource(DATABASE));
		this.jdbc.sql("DELETE FROM cluster_lease").update();
		this.jdbc.sql("DELETE FROM fenced_write").update();
	}

	@AfterEach
	void stopExecutors() {
		this.executors.forEach(ExecutorService::shutdownNow);
	}

	@Test
	void theFirstTakeHasEpochOneAndNobodyElseGetsTheLease() {
		Replica a = replica("a");
		Replica b = replica("b");

		Lease lease = a.lease.tryAcquireOrRenew(SHARD).orElseThrow();
		assertThat(lease.shard()).isEqualTo(SHARD);
		assertThat(lease.holder()).isEqualTo("a");
		assertThat(lease.epoch()).isEqualTo(1);
		assertThat(lease.expiresAt()).isEqualTo(lease.acquiredAt().plus(LEASE));
		assertThat(b.lease.tryAcquireOrRenew(SHARD)).isEmpty();
		assertThat(b.lease.current(SHARD)).contains(lease);
		// a second process with the same name does not know the epoch: it waits for the lapse like anyone else
		assertThat(replica("a").lease.tryAcquireOrRenew(SHARD)).isEmpty();
		assertThat(a.lease.current(SHARD + 1)).isEmpty();
	}

	@Test
	void theHolderRenewsWithTheSameEpoch() {
		Replica a = replica("a");
		Lease first = a.lease.tryAcquireOrRenew(SHARD).orElseThrow();

		Lease renewed = a.lease.tryAcquireOrRenew(SHARD).orElseThrow();
		assertThat(renewed.epoch()).isEqualTo(1);
		assertThat(renewed.holder()).isEqualTo("a");
		assertThat(renewed.acquiredAt()).isEqualTo(first.acquiredAt());
		assertThat(renewed.expiresAt()).isAfterOrEqualTo(first.expiresAt());
		assertThat(replica("b").lease.tryAcquireOrRenew(SHARD)).isEmpty();
	}

	@Test
	void aLapsedLeaseIsTakenWithTheNextEpochAndTheOldLeadersWritesAreRefused() {
		Replica a = replica("a");
		Replica b = replica("b");
		assertThat(a.lease.tryAcquireOrRenew(SHARD).orElseThrow().epoch()).isEqualTo(1);
		a.write(1, "a while it leads");
		assertThat(b.lease.tryAcquireOrRenew(SHARD)).isEmpty();

		// a stops renewing (a long GC pause, a network partition): b takes over once the lease lapses
		Lease taken = await().atMost(Duration.ofSeconds(10))
			.pollInterval(Duration.ofMillis(100))
			.until(() -> b.lease.tryAcquireOrRenew(SHARD), Optional::isPresent)
			.orElseThrow();
		assertThat(taken.holder()).isEqualTo("b");
		assertThat(taken.epoch()).isEqualTo(2);

		// a wakes up: it can neither renew nor write with the epoch it had
		assertThat(a.lease.tryAcquireOrRenew(SHARD)).isEmpty();
		assertThatExceptionOfType(StaleEpochException.class).isThrownBy(() -> a.write(1, "a after it lost"))
			.withMessageContaining("epoch 1 refused")
			.satisfies((ex) -> {
				assertThat(ex.shard()).isEqualTo(SHARD);
				assertThat(ex.writerEpoch()).isEqualTo(1);
				assertThat(ex.storedEpoch()).isEqualTo(2);
			});
		b.write(2, "b, the new leader");
		assertThat(this.jdbc.sql("SELECT note FROM fenced_write ORDER BY epoch").query(String.class).list())
			.containsExactly("a while it leads", "b, the new leader");
	}

	@Test
	void aHolderThatStillKnowsItsEpochRenewsALapsedLeaseNobodyTook() {
		Replica a = replica("a");
		Lease first = a.lease.tryAcquireOrRenew(SHARD).orElseThrow();
		await().atMost(Duration.ofSeconds(10))
			.pollInterval(Duration.ofMillis(100))
			.until(() -> this.jdbc.sql("SELECT count(*) FROM cluster_lease WHERE expires_at <= CURRENT_TIMESTAMP")
				.query(Long.class)
				.single() == 1);

		Lease renewed = a.lease.tryAcquireOrRenew(SHARD).orElseThrow();
		assertThat(renewed.epoch()).isEqualTo(first.epoch());
		assertThat(renewed.acquiredAt()).isEqualTo(first.acquiredAt());
		a.write(first.epoch(), "queued while the lease had lapsed");
	}

	@Test
	void aReleasedLeaseIsTakenAtOnceWithTheNextEpoch() {
		Replica a = replica("a");
		Replica b = replica("b");
		a.lease.tryAcquireOrRenew(SHARD).orElseThrow();
		assertThat(b.lease.release(SHARD)).as("release by a replica that does not hold the lease").isFalse();
		assertThat(b.lease.tryAcquireOrRenew(SHARD)).isEmpty();

		assertThat(a.lease.release(SHARD)).isTrue();
		Lease taken = b.lease.tryAcquireOrRenew(SHARD).orElseThrow();
		assertThat(taken.holder()).isEqualTo("b");
		assertThat(taken.epoch()).isEqualTo(2);
		assertThatExceptionOfType(StaleEpochException.class).isThrownBy(() -> a.write(1, "a after its handoff"));

		// and back: the releasing replica takes it again like anyone else, with a new epoch
		assertThat(b.lease.release(SHARD)).isTrue();
		assertThat(a.lease.tryAcquireOrRenew(SHARD).orElseThrow().epoch()).isEqualTo(3);
		assertThatExceptionOfType(StaleEpochException.class).isThrownBy(() -> b.write(2, "b after its handoff"));
	}

	@Test
	void everyTimeIsTheStoresClock() {
		Replica a = replica("a");
		OffsetDateTime before = storeNow();
		Lease lease = a.lease.tryAcquireOrRenew(SHARD).orElseThrow();
		OffsetDateTime after = storeNow();

		OffsetDateTime renewedAt = this.jdbc.sql("SELECT renewed_at FROM cluster_lease WHERE shard = :shard")
			.param("shard", SHARD)
			.query((rs, rowNum) -> rs.getObject(1, OffsetDateTime.class))
			.single();
		assertThat(renewedAt.toInstant()).isBetween(before.toInstant(), after.toInstant())
			.isEqualTo(lease.acquiredAt());
		assertThat(lease.expiresAt()).isEqualTo(renewedAt.toInstant().plus(LEASE));
		// and the statements take no instant from this JVM: only the lease length, as a number
		assertThat(ClusterLease.class.getDeclaredFields()).noneMatch((field) -> field.getType() == Clock.class);
	}

	@Test
	void aFenceOutsideATransactionOrForAShardWithoutLeaseIsRefused() {
		Replica a = replica("a");
		assertThatIllegalStateException().isThrownBy(() -> a.lease.fence(SHARD, 1))
			.withMessageContaining("inside the transaction");
		assertThatExceptionOfType(StaleEpochException.class).isThrownBy(() -> a.write(1, "never leader"))
			.withMessageContaining("no lease");
		assertThatIllegalArgumentException().isThrownBy(() -> a.lease.tryAcquireOrRenew(SHARDS))
			.withMessageContaining("pglockwatch.cluster.shards");
		assertThatIllegalArgumentException().isThrownBy(() -> a.lease.current(-1));
	}

	@Test
	void threeReplicasRacingForAFreshShardElectOneEachTime() throws Exception {
		List<Replica> replicas = List.of(replica("a"), replica("b"), replica("c"));
		for (int shard = 0; shard < 50; shard++) {
			List<Optional<Lease>> outcomes = race(replicas, shard);

			List<Lease> won = outcomes.stream().flatMap(Optional::stream).toList();
			assertThat(won).as("winners of shard " + shard).hasSize(1);
			assertThat(won.get(0).epoch()).isEqualTo(1);
			assertThat(replicas.get(0).lease.current(shard)).contains(won.get(0));
		}
	}

	@Test
	void threeReplicasRacingForAReleasedLeaseElectOneEachTime() throws Exception {
		List<Replica> replicas = List.of(replica("a"), replica("b"), replica("c"));
		for (int round = 1; round <= 50; round++) {
			List<Optional<Lease>> outcomes = race(replicas, SHARD);

			List<Integer> winners = new ArrayList<>();
			for (int i = 0; i < outcomes.size(); i++) {
				if (outcomes.get(i).isPresent()) {
					winners.add(i);
				}
			}
			assertThat(winners).as("winners of round " + round).hasSize(1);
			Replica winner = replicas.get(winners.get(0));
			Lease lease = outcomes.get(winners.get(0)).orElseThrow();
			assertThat(lease.holder()).isEqualTo(winner.name);
			assertThat(lease.epoch()).isEqualTo(round);
			assertThat(winner.lease.release(SHARD)).isTrue();
		}
	}

	/** Each replica tries to take the shard at the same moment; their outcomes in replica order. */
	private List<Optional<Lease>> race(List<Replica> replicas, int shard) throws Exception {
		ExecutorService executor = Executors.newFixedThreadPool(replicas.size());
		this.executors.add(executor);
		CyclicBarrier start = new CyclicBarrier(replicas.size());
		List<Future<Optional<Lease>>> futures = new ArrayList<>();
		for (Replica replica : replicas) {
			futures.add(executor.submit(() -> {
				start.await(10, TimeUnit.SECONDS);
				return replica.lease.tryAcquireOrRenew(shard);
			}));
		}
		List<Optional<Lease>> outcomes = new ArrayList<>();
		for (Future<Optional<Lease>> future : futures) {
			outcomes.add(future.get(30, TimeUnit.SECONDS));
		}
		executor.shutdown();
		return outcomes;
	}

	private OffsetDateTime storeNow() {
		return this.jdbc.sql("SELECT CURRENT_TIMESTAMP").query((rs, rowNum) -> rs.getObject(1, OffsetDateTime.class))
			.single();
	}

	private Replica replica(String name) {
		DataSource dataSource = this.database.newDataSource(DATABASE);
		return new Replica(name, new ClusterLease(dataSource, new ClusterProperties(name, LEASE, SHARDS)),
				JdbcClient.create(dataSource), new TransactionTemplate(new DataSourceTransactionManager(dataSource)));
	}

	/** One run of the service: its lease and a fenced write on its own data source. */
	private record Replica(String name, ClusterLease lease, JdbcClient jdbc, TransactionTemplate transaction) {

		/** Writes for the shard the way a leader will: fence first, in the transaction of the write. */
		void write(long epoch, String note) {
			this.transaction.executeWithoutResult((status) -> {
				this.lease.fence(SHARD, epoch);
				this.jdbc.sql("INSERT INTO fenced_write (shard, epoch, note) VALUES (:shard, :epoch, :note)")
					.param("shard", SHARD)
					.param("epoch", epoch)
					.param("note", note)
					.update();
			});
		}

	}

}
