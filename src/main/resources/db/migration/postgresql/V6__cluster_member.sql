-- The replicas that share this store: a row per instance-name, written by its election at every round. Both times
-- are the store's own clock (CURRENT_TIMESTAMP of the statement that wrote them), never a replica's. A member is live
-- while last_seen_at plus the lease is after the store's now; the election spreads the shards over the live members.
-- started_at is when the current run of the replica first wrote its row. A replica that stops deletes its row; rows
-- of replicas that died are deleted by the others once they are ten leases old.
CREATE TABLE cluster_member (
    name VARCHAR(200) PRIMARY KEY,
    started_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL
);
