-- Hand-over without a gap: the leader of a shard that leads more than its share names the member it offers the
-- shard to; that member takes the lease (epoch + 1) while it is still held, and the old leader learns at its next
-- renewal that it lost it. A take of any kind clears the offer; a renewal keeps it.
ALTER TABLE cluster_lease ADD COLUMN offered_to VARCHAR(200);

-- The latest state of each target as the replica that polls it published it, so that every replica answers for
-- every target: state is JSON (the target's state and its latest lock snapshot, with a schemaVersion of its own),
-- shard and epoch are the publisher's lease when it wrote, and a row is only replaced by a publisher of the same
-- shard with the same or a newer epoch (or of another shard, after pglockwatch.cluster.shards changed).
-- published_at is the store's clock.
CREATE TABLE target_state (
    name VARCHAR(255) PRIMARY KEY,
    shard INT NOT NULL,
    epoch BIGINT NOT NULL,
    holder VARCHAR(200) NOT NULL,
    published_at timestamp(6) with time zone NOT NULL,
    state clob NOT NULL
);
CREATE INDEX target_state_published_at ON target_state (published_at);
