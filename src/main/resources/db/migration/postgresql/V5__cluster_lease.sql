-- One leader per shard among the replicas that share this store: a lease row per shard. Every time in it is the
-- store's own clock (CURRENT_TIMESTAMP of the statement that wrote it), never a replica's.
-- epoch grows by one each time the lease is taken rather than renewed (by another replica, or by one that released
-- it or restarted) and is the fencing token: a write for the shard carries its writer's epoch and is refused once
-- the row holds another. Rows are never deleted: a released or lapsed lease keeps its epoch, so the next is higher.
-- expires_at is set by the holder (renewed_at plus its pglockwatch.cluster.lease), so replicas with different lease
-- settings still agree on when a lease has lapsed.
CREATE TABLE cluster_lease (
    shard INT PRIMARY KEY,
    holder VARCHAR(200) NOT NULL,
    epoch BIGINT NOT NULL,
    acquired_at timestamptz NOT NULL,
    renewed_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
