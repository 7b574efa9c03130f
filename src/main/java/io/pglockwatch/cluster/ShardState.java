package io.pglockwatch.cluster;

import java.time.Instant;

/**
 * Who leads a shard, as this replica knows it.
 *
 * @param leader the {@code instance-name} of the leading replica
 * @param epoch the epoch of the leader's lease
 * @param since when the leader took the lease, by the store's clock
 * @param thisReplica whether the leader is this replica
 */
public record ShardState(String leader, long epoch, Instant since, boolean thisReplica) {
}
