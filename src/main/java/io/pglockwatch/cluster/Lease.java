package io.pglockwatch.cluster;

import java.time.Instant;

/**
 * A shard's lease as the store holds it. Both instants are the store's clock, not this replica's: compare them with
 * each other or with the store's {@code CURRENT_TIMESTAMP}, never with a local {@code Instant.now()}.
 *
 * @param shard the shard, from 0 to {@code pglockwatch.cluster.shards} - 1
 * @param holder the {@code instance-name} of the replica that holds it, or held it last
 * @param epoch the fencing token of this holder's tenure: it grows by one each time the lease is taken
 * @param acquiredAt when this tenure began (the take, not the last renewal)
 * @param expiresAt when the lease lapses unless it is renewed first
 * @param offeredTo the member the holder offered the shard to (it takes the lease at its next round), or null
 */
public record Lease(int shard, String holder, long epoch, Instant acquiredAt, Instant expiresAt, String offeredTo) {
}
