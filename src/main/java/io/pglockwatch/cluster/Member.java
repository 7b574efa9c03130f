package io.pglockwatch.cluster;

import java.time.Instant;
import java.util.List;

/**
 * A live replica of the cluster, as the store showed it at this replica's last round. Both instants are the store's
 * clock, not this replica's.
 *
 * @param name its {@code instance-name}
 * @param startedAt when its current run first wrote its row
 * @param lastSeenAt when its election last wrote its row; it is live until this plus the lease
 * @param shards the shards whose lease it held, not lapsed, in shard order
 */
public record Member(String name, Instant startedAt, Instant lastSeenAt, List<Integer> shards) {

	public Member {
		shards = List.copyOf(shards);
	}

}
