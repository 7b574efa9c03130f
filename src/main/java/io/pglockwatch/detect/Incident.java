package io.pglockwatch.detect;

import java.time.Duration;
import java.time.Instant;

/**
 * One incident as stored and served. Immutable: the lifecycle makes a new one on every change.
 *
 * @param id stable for the incident's whole life, also across restarts
 * @param dedupKey derived from what the incident is (target, kind, pid and backend start of the session at
 * its heart), so a restart or a second replica yields the same key
 * @param lastSeenAt the last poll at which the condition held
 * @param ddl the waiting DDL ({@code ddl-lock-queue} only), else null
 * @param rootBlocker the session at the far end of the queue
 * @param queueDepth sessions queued at the last poll
 * @param peakQueueDepth the most sessions queued at any poll
 * @param peakMaxWait the longest wait seen
 * @param database the database the situation is in
 */
public record Incident(String id, String dedupKey, String target, IncidentKind kind, Severity severity,
		IncidentState state, Instant openedAt, Instant escalatedAt, Instant resolvedAt, Instant lastSeenAt,
		DdlFacts ddl, SessionFacts rootBlocker, int queueDepth, int peakQueueDepth, Duration peakMaxWait,
		String database) {

	public boolean isActive() {
		return this.state.isActive();
	}

	/** The relation involved: the DDL's, else null. */
	public String relation() {
		return this.ddl == null ? null : this.ddl.relation();
	}

}
