package io.pglockwatch.cluster;

/**
 * Told when this replica starts or stops leading a shard. Beans of this type are collected by {@link Leadership}.
 *
 * <p>Both calls come from the election's own thread, in order for each shard, and must return quickly. The loss is
 * reported when the election notices it; if that thread stalls, it may come late. So an action for a shard checks
 * {@link Leadership#leads(int)} right before it starts, and a store write carries the epoch and is fenced with
 * {@link ClusterLease#fence(int, long)}: the fence, not this call, is what keeps a late writer out.
 */
public interface LeadershipListener {

	/** This replica now leads the shard, with the lease taken (or still held) at {@code epoch}. */
	default void onLeadershipGained(int shard, long epoch) {
	}

	/** This replica no longer leads the shard it led at {@code epoch}: stop acting for it. */
	default void onLeadershipLost(int shard, long epoch) {
	}

}
