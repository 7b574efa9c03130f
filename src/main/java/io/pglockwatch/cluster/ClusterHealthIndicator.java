package io.pglockwatch.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * The {@code cluster} health component: which shards this replica leads, and why it cannot lead when the store does
 * not answer. Always up: a replica that leads nothing is a healthy follower, and a store that does not answer is the
 * {@code store} component's finding; restarting this replica would not bring the store back.
 */
final class ClusterHealthIndicator implements HealthIndicator {

	private final Cluster cluster;

	ClusterHealthIndicator(Cluster cluster) {
		this.cluster = cluster;
	}

	@Override
	public Health health() {
		Health.Builder builder = Health.up();
		List<Integer> leads = new ArrayList<>();
		List<String> leaders = new ArrayList<>();
		for (Map.Entry<Integer, ShardState> shard : this.cluster.shardStates().entrySet()) {
			if (shard.getValue().thisReplica()) {
				leads.add(shard.getKey());
			}
			else {
				leaders.add(shard.getKey() + ": " + shard.getValue().leader());
			}
		}
		builder.withDetail("instance", this.cluster.instanceName()).withDetail("leads", leads)
			.withDetail("otherLeaders", leaders).withDetail("members", this.cluster.members().size());
		String problem = this.cluster.problem();
		if (problem != null) {
			builder.withDetail("problem", problem + "; this replica records, alerts and guards nothing meanwhile");
		}
		return builder.build();
	}

}
