package io.pglockwatch.poll;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.Arrays;

import io.pglockwatch.bench.SnapshotCostBenchmark;
import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.sql.QueryTextMode;
import io.pglockwatch.testsupport.LockScenario;
import io.pglockwatch.testsupport.PostgresServer;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A guard against building the snapshot quadratically: with 250 sessions queued behind a waiting ALTER TABLE,
 * one full poll (read + graph) costs no more than a few times the bare joined read of pg_locks and
 * pg_stat_activity. The figures for sizing come from bench/snapshot-cost.sh ({@link SnapshotCostBenchmark}).
 */
class SnapshotCostIntegrationTests {

	private static final int QUEUED = 250;

	private static final int ROUNDS = 15;

	static final String BARE_READ = SnapshotCostBenchmark.FLOOR_SQL;

	@Test
	void pollOf250QueuedCostsAFewBareReads() throws Exception {
		PostgresServer server = PostgresServer.shared();
		server.installFixtures(PostgresServer.DEFAULT_DATABASE);
		try (LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "cost");
				TargetConnections connections = LockScenariosIntegrationTests.connections(server,
						PostgresServer.DEFAULT_DATABASE)) {
			scenario.stageDdlQueue("users", "ADD COLUMN email_verified boolean NOT NULL DEFAULT false", QUEUED);

			LockSnapshotCollector collector = new LockSnapshotCollector("lab", QueryTextMode.REDACTED,
					new RelationNameResolver(connections, Clock.systemUTC()));
			Connection connection = connections.borrow();
			long[] poll = new long[ROUNDS];
			long[] bare = new long[ROUNDS];
			LockWaitGraph graph = null;
			for (int round = -3; round < ROUNDS; round++) { // three warm-up rounds
				long t0 = System.nanoTime();
				graph = LockWaitGraph.of(collector.read(connection));
				long t1 = System.nanoTime();
				bareRead(connection);
				long t2 = System.nanoTime();
				if (round >= 0) {
					poll[round] = t1 - t0;
					bare[round] = t2 - t1;
				}
			}
			connections.release(connection, false);
			double pollMs = median(poll) / 1e6;
			double bareMs = median(bare) / 1e6;
			System.out.printf("%d queued: poll (read + graph) median %.2f ms, bare read median %.2f ms, ratio %.2f%n",
					QUEUED, pollMs, bareMs, pollMs / bareMs);
			assertThat(graph.deepestDdlQueue().queueDepth()).isEqualTo(QUEUED);
			assertThat(graph.edges()).hasSize(QUEUED + 1);
			assertThat(pollMs / bareMs).as("poll cost relative to the bare read").isLessThan(4.0);
		}
	}

	private static void bareRead(Connection connection) throws SQLException {
		try (Statement statement = connection.createStatement(); ResultSet rs = statement.executeQuery(BARE_READ)) {
			int columns = rs.getMetaData().getColumnCount();
			while (rs.next()) {
				for (int i = 1; i <= columns; i++) {
					rs.getObject(i);
				}
			}
		}
	}

	private static double median(long[] values) {
		long[] sorted = values.clone();
		Arrays.sort(sorted);
		return sorted[sorted.length / 2];
	}

}
