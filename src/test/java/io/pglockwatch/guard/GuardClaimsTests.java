package io.pglockwatch.guard;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import javax.sql.DataSource;

import io.pglockwatch.cluster.Fence;
import io.pglockwatch.cluster.TestClusters;
import io.pglockwatch.detect.SessionFacts;
import io.pglockwatch.testsupport.StoreDatabase;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import org.springframework.jdbc.core.simple.JdbcClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Guard decisions claimed in a real store: the first claim of a session and action wins, a second (by this leader or
 * the next) is told it is taken, and a leader whose epoch is stale claims nothing.
 */
class GuardClaimsTests {

	private static final SessionFacts DDL = new SessionFacts(4242, Instant.parse("2026-12-06T10:00:00.123456Z"),
			"active", "migrate", "deployer", "10.0.0.7", "app", null, null, null, "ALTER TABLE users ADD COLUMN x int",
			"ALTER TABLE", null);

	@ParameterizedTest
	@EnumSource(StoreDatabase.class)
	void theFirstClaimWinsAndAStaleLeaderClaimsNothing(StoreDatabase database) {
		String name = "lockwatch_guard_claims";
		database.recreateSchema(name);
		DataSource dataSource = database.newDataSource(name);
		JdbcClient jdbc = JdbcClient.create(dataSource);
		try (TestClusters.Running first = TestClusters.alone(dataSource, "first", 1)) {
			GuardClaims claims = new GuardClaims(jdbc, first.cluster(), Clock.systemUTC());
			Fence fence = first.cluster().fence(0);
			assertThat(claims.claim(fence, "orders", DDL, "cancel-ddl")).isEqualTo(GuardClaims.Claim.CLAIMED);
			assertThat(claims.claim(fence, "orders", DDL, "cancel-ddl")).isEqualTo(GuardClaims.Claim.TAKEN);
			// another action, or its dry-run, about the same session is a decision of its own
			assertThat(claims.claim(fence, "orders", DDL, "cancel-ddl/dry-run")).isEqualTo(GuardClaims.Claim.CLAIMED);

			// the first replica hands the shard over; the next one takes it with a higher epoch
			first.leadership().stop();
			try (TestClusters.Running next = TestClusters.alone(dataSource, "next", 1)) {
				Fence nextFence = next.cluster().fence(0);
				assertThat(nextFence.epoch()).isGreaterThan(fence.epoch());
				GuardClaims nextClaims = new GuardClaims(jdbc, next.cluster(), Clock.systemUTC());
				assertThat(nextClaims.claim(nextFence, "orders", DDL, "cancel-ddl")).isEqualTo(GuardClaims.Claim.TAKEN);
				SessionFacts other = new SessionFacts(4343, DDL.backendStart(), "active", "migrate", "deployer", null,
						"app", null, null, null, null, null, null);
				assertThat(claims.claim(fence, "orders", other, "cancel-ddl")).isEqualTo(GuardClaims.Claim.NOT_LEADER);
				assertThat(nextClaims.claim(nextFence, "orders", other, "cancel-ddl"))
					.isEqualTo(GuardClaims.Claim.CLAIMED);
			}
		}
		assertThat(jdbc.sql("SELECT claimed_by FROM guard_claim WHERE action = 'cancel-ddl' ORDER BY pid")
			.query(String.class).list()).containsExactly("first", "next");
	}

}
