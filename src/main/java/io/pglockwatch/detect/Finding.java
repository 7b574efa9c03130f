package io.pglockwatch.detect;

import java.time.Duration;

/**
 * A situation seen in one graph. Every situation of a kind is a finding; {@code qualifies} says whether it
 * has crossed the thresholds that open an incident. An open incident stays alive while its finding is
 * seen at all, so a queue that dips below a threshold for a poll does not resolve and reopen it.
 *
 * @param queueDepth sessions queued behind the DDL, or blocked behind the root
 * @param maxWait the longest lock wait among them
 */
public record Finding(IncidentKind kind, String dedupKey, boolean qualifies, Severity severity, DdlFacts ddl,
		SessionFacts rootBlocker, int queueDepth, Duration maxWait, String database) {
}
