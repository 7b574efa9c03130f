package io.pglockwatch.alert;

import java.time.Instant;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonInclude.Include;

/**
 * The webhook body, {@code {event, incident}}: camelCase like the service's own API.
 *
 * @param event opened, escalated or resolved
 */
record WebhookPost(AlertAction event, WebhookIncident incident) {

	/**
	 * The incident as it is at the event. Every field is always present, null when unknown or not yet reached, so a
	 * receiver can rely on the shape.
	 */
	@JsonInclude(Include.ALWAYS)
	record WebhookIncident(String id, String dedupKey, String target, String kind, String severity, String state,
			String summary, String link, Instant openedAt, Instant escalatedAt, Instant resolvedAt, String database,
			String relation, int queueDepth, int peakQueueDepth, AlertDetails details) {
	}

}
