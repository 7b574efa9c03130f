-- What the leader of a shard claims before it acts, so that a failover never makes an action happen twice.
-- alert_outbox: event_id is the event's stable id for receivers (the same for every attempt, by any replica);
-- target is the target of the event's incident, whose shard's leader sends it; claim_epoch is the epoch of the
-- leader that last claimed the event for an attempt (null before any).
ALTER TABLE alert_outbox ADD COLUMN event_id VARCHAR(64);
ALTER TABLE alert_outbox ADD COLUMN target VARCHAR(255);
ALTER TABLE alert_outbox ADD COLUMN claim_epoch BIGINT;
UPDATE alert_outbox SET event_id = 'outbox-' || id, target = (SELECT i.target FROM incident i WHERE i.id = incident_id);
ALTER TABLE alert_outbox ALTER COLUMN event_id SET NOT NULL;

-- A guard decision about one session, claimed in the store before the signal: the first claim of (target, pid,
-- backend_start, action) wins, so a new leader never signals a session the old one decided about. Claims older than
-- a day are deleted by later claims.
CREATE TABLE guard_claim (
    target VARCHAR(255) NOT NULL,
    pid INT NOT NULL,
    backend_start timestamptz NOT NULL,
    action VARCHAR(40) NOT NULL,
    epoch BIGINT NOT NULL,
    claimed_by VARCHAR(200) NOT NULL,
    claimed_at timestamptz NOT NULL,
    CONSTRAINT guard_claim_pk PRIMARY KEY (target, pid, backend_start, action)
);
CREATE INDEX guard_claim_claimed_at ON guard_claim (claimed_at);
