package io.pglockwatch.alert;

import java.time.Instant;
import java.util.Locale;

/**
 * One alert event in the outbox.
 *
 * @param action PagerDuty's event_action (trigger, resolve) or the webhook's event (opened, escalated, resolved)
 * @param payload the JSON body, without the PagerDuty routing key (added when sent)
 * @param state pending until a channel accepted it (sent) or refused it for good (failed)
 * @param lastStatus the HTTP status of the last attempt, null when it got none (timeout, refused)
 * @param eventId the event's stable id for receivers: the same for every attempt, by any replica
 * @param target the target of the event's incident, whose shard's leader sends it
 * @param claimEpoch the epoch of the leader that last claimed it to send, null before any; for an event in memory,
 * the epoch it was recorded under
 */
public record OutboxEntry(long id, String incidentId, AlertChannel channel, AlertAction action, String dedupKey,
		String payload, State state, int attempts, Instant createdAt, Instant nextAttemptAt, Instant sentAt,
		Integer lastStatus, String lastError, String eventId, String target, Long claimEpoch) {

	public enum State {

		PENDING, SENT, FAILED;

		/** As stored: {@code pending}, {@code sent}, {@code failed}. */
		public String label() {
			return name().toLowerCase(Locale.ROOT);
		}

		public static State of(String label) {
			return valueOf(label.toUpperCase(Locale.ROOT));
		}

	}

}
