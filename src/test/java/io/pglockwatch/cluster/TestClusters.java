package io.pglockwatch.cluster;

import java.time.Duration;

import javax.sql.DataSource;

import org.springframework.beans.factory.support.DefaultListableBeanFactory;

import static org.awaitility.Awaitility.await;

/**
 * A real cluster of one on a migrated store, for tests of the parts that act only while leading: its election runs
 * on its own thread as in the service, and {@link #alone} returns once it leads every shard.
 */
public final class TestClusters {

	private TestClusters() {
	}

	/**
	 * A replica named {@code instance} that leads every shard of {@code shards} on the store of {@code dataSource},
	 * whose writes the returned cluster fences.
	 */
	public static Running alone(DataSource dataSource, String instance, int shards) {
		ClusterProperties properties = new ClusterProperties(instance, Duration.ofSeconds(10), shards);
		ClusterLease lease = new ClusterLease(dataSource, properties);
		Leadership leadership = new Leadership(lease, new ClusterMembers(dataSource, properties), properties,
				new DefaultListableBeanFactory().getBeanProvider(LeadershipListener.class));
		leadership.start();
		await().atMost(Duration.ofSeconds(30)).until(() -> {
			for (int shard = 0; shard < shards; shard++) {
				if (!leadership.leads(shard)) {
					return false;
				}
			}
			return true;
		});
		return new Running(new Cluster(leadership, lease, properties, dataSource), leadership);
	}

	/** A replica of one shard that leads it. */
	public static Running alone(DataSource dataSource) {
		return alone(dataSource, "test", 1);
	}

	/** A cluster whose election runs until {@link #close()}. */
	public record Running(Cluster cluster, Leadership leadership) implements AutoCloseable {

		@Override
		public void close() {
			this.leadership.stop();
		}

	}

}
