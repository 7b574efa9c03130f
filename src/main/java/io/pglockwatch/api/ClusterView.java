package io.pglockwatch.api;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.pglockwatch.cluster.Cluster;
import io.pglockwatch.cluster.Member;
import io.pglockwatch.cluster.ShardState;
import io.swagger.v3.oas.annotations.media.Schema;

/**
 * {@code GET /api/v1/cluster}: the replicas that share the store and who leads which shard, as this replica sees them.
 *
 * @param instance this replica's {@code instance-name}
 * @param problem why this replica cannot lead now (the store does not answer), null while it can
 * @param members the live replicas as the store showed them at this replica's last election round (about every third
 * of a lease); empty while the store does not answer
 * @param shards every shard, with its leader as this replica knows it
 */
@Schema(description = "The replicas sharing the store and the leader of each shard (docs/api.md#get-apiv1cluster)")
public record ClusterView(String instance, String problem, List<MemberView> members, List<ShardView> shards) {

	/**
	 * @param name its {@code instance-name}
	 * @param startedAt when its current run joined, by the store's clock
	 * @param lastSeenAt when it last renewed its membership, by the store's clock
	 * @param shards the shards it leads
	 */
	@Schema(description = "A live replica of the cluster")
	public record MemberView(String name, Instant startedAt, Instant lastSeenAt, List<Integer> shards) {
	}

	/**
	 * @param shard from 0 to {@code pglockwatch.cluster.shards} - 1
	 * @param leader the {@code instance-name} of its leader, null while none is known
	 * @param epoch the fencing epoch of the leader's lease, null while none is known
	 * @param since when the leader took the lease, by the store's clock
	 * @param thisReplica whether this replica leads it
	 * @param targets the configured targets in the shard
	 */
	@Schema(description = "A shard, its leader and its targets")
	public record ShardView(int shard, String leader, Long epoch, Instant since, boolean thisReplica,
			List<String> targets) {
	}

	static ClusterView of(Cluster cluster, List<String> targets) {
		Map<Integer, ShardState> states = cluster.shardStates();
		List<ShardView> shards = new ArrayList<>();
		for (int shard = 0; shard < cluster.shards(); shard++) {
			int s = shard;
			ShardState state = states.get(shard);
			List<String> inShard = targets.stream().filter((t) -> cluster.shardOf(t) == s).toList();
			shards.add((state != null)
					? new ShardView(shard, state.leader(), state.epoch(), state.since(), state.thisReplica(), inShard)
					: new ShardView(shard, null, null, null, false, inShard));
		}
		List<MemberView> members = cluster.members()
			.stream()
			.map((Member m) -> new MemberView(m.name(), m.startedAt(), m.lastSeenAt(), m.shards()))
			.toList();
		return new ClusterView(cluster.instanceName(), cluster.problem(), members, shards);
	}

}
