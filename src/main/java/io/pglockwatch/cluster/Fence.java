package io.pglockwatch.cluster;

/**
 * The right to write for one shard: the epoch of the lease this replica led the shard with when it decided to write.
 * A write carries it to the store, where {@link Cluster#write(Fence, Runnable)} refuses it once another epoch holds
 * the shard.
 *
 * @param shard the shard, from 0 to {@code pglockwatch.cluster.shards} - 1
 * @param epoch the epoch of the lease it was led with
 */
public record Fence(int shard, long epoch) {

	@Override
	public String toString() {
		return "shard " + this.shard + " epoch " + this.epoch;
	}

}
