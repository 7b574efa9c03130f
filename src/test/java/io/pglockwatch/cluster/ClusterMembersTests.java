package io.pglockwatch.cluster;

import java.time.Duration;

import javax.sql.DataSource;

import io.pglockwatch.testsupport.StoreDatabase;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import org.springframework.jdbc.core.simple.JdbcClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ClusterMembers} on each database the store may be: rows written and aged with the store's clock only.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(StoreDatabase.class)
class ClusterMembersTests {

	private static final String DATABASE = "cluster_members_it";

	private static final Duration LEASE = Duration.ofSeconds(2);

	@Parameter
	StoreDatabase database;

	private DataSource dataSource;

	private JdbcClient jdbc;

	@BeforeParameterizedClassInvocation
	static void migrate(StoreDatabase database) {
		database.recreateSchema(DATABASE);
	}

	@BeforeEach
	void emptyTables() {
		this.dataSource = this.database.newDataSource(DATABASE);
		this.jdbc = JdbcClient.create(this.dataSource);
		this.jdbc.sql("DELETE FROM cluster_lease").update();
		this.jdbc.sql("DELETE FROM cluster_member").update();
	}

	@Test
	void liveMembersComeWithTheShardsWhoseLeaseTheyHold() {
		ClusterMembers a = members("a");
		ClusterMembers b = members("b");
		a.heartbeat();
		b.heartbeat();
		ClusterLease leaseOfA = new ClusterLease(this.dataSource, new ClusterProperties("a", LEASE, 4));
		leaseOfA.tryAcquireOrRenew(1);
		leaseOfA.tryAcquireOrRenew(3);
		leaseOfA.tryAcquireOrRenew(2);
		leaseOfA.release(2);

		assertThat(a.live()).extracting(Member::name).containsExactly("a", "b");
		assertThat(a.live().get(0).shards()).as("a released lease is not led").containsExactly(1, 3);
		assertThat(a.live().get(1).shards()).isEmpty();
		Member first = a.live().get(0);
		assertThat(first.lastSeenAt()).isAfterOrEqualTo(first.startedAt());
	}

	@Test
	void aMemberNotSeenForALeaseIsNotLiveAndAfterTenLeasesItsRowIsGone() {
		ClusterMembers a = members("a");
		a.heartbeat();
		this.jdbc.sql("INSERT INTO cluster_member (name, started_at, last_seen_at) VALUES ('late', "
				+ "CURRENT_TIMESTAMP - INTERVAL '3' SECOND, CURRENT_TIMESTAMP - INTERVAL '3' SECOND)").update();
		this.jdbc.sql("INSERT INTO cluster_member (name, started_at, last_seen_at) VALUES ('gone', "
				+ "CURRENT_TIMESTAMP - INTERVAL '30' SECOND, CURRENT_TIMESTAMP - INTERVAL '21' SECOND)").update();

		assertThat(a.live()).extracting(Member::name).containsExactly("a");
		a.heartbeat();
		assertThat(this.jdbc.sql("SELECT name FROM cluster_member ORDER BY name").query(String.class).list())
			.containsExactly("a", "late");
	}

	@Test
	void aNewRunStartsAgainAndAStoppedOneLeaves() throws InterruptedException {
		members("a").heartbeat();
		Member before = members("b").live().get(0);
		Thread.sleep(20);

		ClusterMembers restarted = members("a");
		restarted.heartbeat();
		Member after = restarted.live().get(0);
		assertThat(after.startedAt()).isAfter(before.startedAt());
		restarted.heartbeat();
		assertThat(restarted.live().get(0).startedAt()).isEqualTo(after.startedAt());

		restarted.leave();
		assertThat(restarted.live()).isEmpty();
	}

	private ClusterMembers members(String name) {
		return new ClusterMembers(this.dataSource, new ClusterProperties(name, LEASE, 4));
	}

}
