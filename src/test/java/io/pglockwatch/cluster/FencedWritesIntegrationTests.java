package io.pglockwatch.cluster;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.UUID;

import javax.sql.DataSource;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pglockwatch.detect.Detector;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.detect.IncidentState;
import io.pglockwatch.detect.SessionFacts;
import io.pglockwatch.detect.Severity;
import io.pglockwatch.incident.IncidentStore;
import io.pglockwatch.incident.StoreWriter;
import io.pglockwatch.testsupport.StoreDatabase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.jdbc.core.simple.JdbcClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * A leader that paused (a long GC pause, a network partition) past its lease while another replica took over cannot
 * write once it wakes: its incident write, queued on the store writer as the recorder queues it, is refused by the
 * PostgreSQL store and counted, while the new leader's write of the same incident is stored.
 */
class FencedWritesIntegrationTests {

	private static final String DATABASE = "lockwatch_fenced_writes";

	private static final Duration LEASE = Duration.ofSeconds(2);

	private Replica paused;

	private Replica successor;

	@AfterEach
	void stop() {
		for (Replica replica : new Replica[] { this.paused, this.successor }) {
			if (replica != null) {
				replica.leadership.stop();
			}
		}
	}

	@Test
	void aPausedLeadersWriteAfterTheTakeoverIsRefusedAndTheNewLeadersIsStored() {
		StoreDatabase.POSTGRESQL.recreateSchema(DATABASE);
		DataSource dataSource = StoreDatabase.POSTGRESQL.newDataSource(DATABASE);
		this.paused = Replica.start("paused", dataSource);
		await().atMost(Duration.ofSeconds(10)).until(() -> this.paused.leadership.leads(0));
		Fence before = this.paused.cluster.fence(0);
		this.successor = Replica.start("successor", dataSource);

		// the leader stalls: its election runs no more rounds, and whatever it decided waits for it to wake
		this.paused.leadership.scheduler().getScheduledExecutor().shutdownNow();
		await().atMost(LEASE.multipliedBy(3)).until(() -> this.successor.leadership.leads(0));
		Fence after = this.successor.cluster.fence(0);
		assertThat(after.epoch()).isGreaterThan(before.epoch());

		Incident incident = incident();
		IncidentStore store = new IncidentStore(JdbcClient.create(dataSource));
		SimpleMeterRegistry meters = new SimpleMeterRegistry();
		StoreWriter writes = new StoreWriter(StoreWriter.DEFAULT_LIMIT, Clock.systemUTC());
		writes.bindTo(meters);
		this.paused.cluster.bindTo(meters);
		try {
			// the old leader wakes and writes what it decided before the pause: refused, counted, nothing stored
			writes.submit("opened of incident " + incident.id(), null, false,
					() -> this.paused.cluster.write(before, () -> store.save(incident)));
			writes.flush(Duration.ofSeconds(10));
			assertThat(store.findById(incident.id())).isEqualTo(Optional.empty());
			assertThat(meters.get("pglockwatch.cluster.fenced.writes").functionCounter().count()).isEqualTo(1);
			assertThat(writes.failure()).as("a refused stale write is not a failing store").isNull();

			// the new leader's write of the same incident is stored
			writes.submit("opened of incident " + incident.id(), null, false,
					() -> this.successor.cluster.write(after, () -> store.save(incident)));
			writes.flush(Duration.ofSeconds(10));
			assertThat(store.findById(incident.id())).isPresent();

			// and the old leader's fence is refused directly too, whatever it writes
			assertThatExceptionOfType(StaleEpochException.class)
				.isThrownBy(() -> this.paused.cluster.write(before, () -> store.save(incident)))
				.satisfies((ex) -> assertThat(ex.storedEpoch()).isEqualTo(after.epoch()));
		}
		finally {
			writes.shutdown();
		}
	}

	@Test
	void aLeaderWhoseShardWasTakenByTheMemberItOfferedItToStopsLeadingAtItsFirstRefusedWrite() {
		StoreDatabase.POSTGRESQL.recreateSchema(DATABASE);
		DataSource dataSource = StoreDatabase.POSTGRESQL.newDataSource(DATABASE);
		this.paused = Replica.start("offering", dataSource);
		await().atMost(Duration.ofSeconds(10)).until(() -> this.paused.leadership.leads(0));
		// no round of its own runs between the take and its next write
		this.paused.leadership.scheduler().getScheduledExecutor().shutdownNow();
		Fence before = this.paused.cluster.fence(0);
		ClusterLease offering = this.paused.lease();
		ClusterLease taker = new ClusterLease(dataSource, new ClusterProperties("taker", LEASE, 1));
		assertThat(taker.tryAcquireOrRenew(0)).as("held, not offered: not taken").isEmpty();

		assertThat(offering.offer(0, "taker")).isTrue();
		assertThat(offering.current(0).orElseThrow().offeredTo()).isEqualTo("taker");
		Lease taken = taker.tryAcquireOrRenew(0).orElseThrow();
		assertThat(taken.epoch()).isEqualTo(before.epoch() + 1);
		assertThat(taken.offeredTo()).as("a take clears the offer").isNull();
		assertThat(this.paused.leadership.leads(0)).as("by its clock it still leads until it learns").isTrue();

		IncidentStore store = new IncidentStore(JdbcClient.create(dataSource));
		assertThatExceptionOfType(StaleEpochException.class)
			.isThrownBy(() -> this.paused.cluster.write(before, () -> store.save(incident())));
		assertThat(this.paused.leadership.leads(0)).as("stopped at the refused write").isFalse();
		assertThat(this.paused.cluster.fence(0)).isNull();
	}

	/** A resolved incident, as the recorder hands it to the store. */
	private static Incident incident() {
		Instant at = Instant.now().truncatedTo(ChronoUnit.MICROS);
		SessionFacts root = new SessionFacts(4711, at.minusSeconds(3600), "active", "batch", "etl", "10.0.0.5", "app",
				at.minusSeconds(300), Duration.ofMinutes(5), null, "UPDATE accounts SET balance = balance + ?", "UPDATE",
				null);
		return new Incident(UUID.randomUUID().toString(), Detector.dedupKey("orders", IncidentKind.BLOCKING_CHAIN, root),
				"orders", IncidentKind.BLOCKING_CHAIN, Severity.WARNING, IncidentState.OPEN, at, null, null, at, null, root,
				6, 6, Duration.ofMinutes(5), "app");
	}

	private record Replica(Leadership leadership, Cluster cluster, ClusterLease lease) {

		static Replica start(String name, DataSource dataSource) {
			ClusterProperties properties = new ClusterProperties(name, LEASE, 1);
			ClusterLease lease = new ClusterLease(dataSource, properties);
			Leadership leadership = new Leadership(lease, new ClusterMembers(dataSource, properties), properties,
					new DefaultListableBeanFactory().getBeanProvider(LeadershipListener.class));
			leadership.start();
			return new Replica(leadership, new Cluster(leadership, lease, properties, dataSource), lease);
		}

	}

}
