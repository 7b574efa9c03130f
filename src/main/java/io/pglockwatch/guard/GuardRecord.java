package io.pglockwatch.guard;

import java.time.Instant;

/**
 * One guard decision or operator action, as recorded.
 *
 * @param dedupKey the incident it belongs to
 * @param actor {@code guard} or {@code operator:<login>}
 * @param mode the guard's mode when it was recorded; null for records from before it was stored
 */
public record GuardRecord(Instant at, String target, String dedupKey, GuardAction action, String actor, GuardMode mode,
		int pid, Instant backendStart, String applicationName, String user, GuardOutcome outcome, String reason) {
}
