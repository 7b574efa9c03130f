package io.pglockwatch.guard;

import java.time.Instant;

/**
 * One guard decision or operator action, as recorded.
 *
 * @param dedupKey the incident it belongs to
 * @param action cancel-ddl, terminate-idle-blocker or watch-aborted-transaction
 * @param actor {@code guard} or {@code operator:<login>}
 * @param outcome cancelled, terminated, dry-run, excluded, skipped, changed, not-blocking, gone, not-permitted,
 * failed, still-blocking
 */
public record GuardRecord(Instant at, String target, String dedupKey, String action, String actor, int pid,
		Instant backendStart, String applicationName, String user, String outcome, String reason) {
}
