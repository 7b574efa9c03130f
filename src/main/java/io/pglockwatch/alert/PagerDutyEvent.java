package io.pglockwatch.alert;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonInclude.Include;
import com.fasterxml.jackson.annotation.JsonProperty;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.PropertyNamingStrategies.SnakeCaseStrategy;
import tools.jackson.databind.annotation.JsonNaming;

/**
 * A PagerDuty Events API v2 event as the outbox stores it: everything but the routing key, which only the sender
 * adds ({@link Routed}). Field names are PagerDuty's (snake_case); a resolve carries the key and nothing else.
 *
 * @param payload what the incident is; null for a resolve
 * @param links the incident page; null for a resolve
 */
@JsonNaming(SnakeCaseStrategy.class)
@JsonInclude(Include.NON_NULL)
record PagerDutyEvent(AlertAction eventAction, String dedupKey, Payload payload, List<Link> links, String client,
		String clientUrl) {

	static PagerDutyEvent resolve(String dedupKey) {
		return new PagerDutyEvent(AlertAction.RESOLVE, dedupKey, null, null, null, null);
	}

	/**
	 * @param severity PagerDuty's: {@code warning}, or {@code critical} for the escalation
	 * @param component the relation, when the incident has one
	 * @param group the database, when known
	 * @param incidentClass the incident kind ({@code class} is PagerDuty's name, a Java keyword)
	 */
	@JsonNaming(SnakeCaseStrategy.class)
	@JsonInclude(Include.NON_NULL)
	record Payload(String summary, String source, String severity, Instant timestamp, String component, String group,
			@JsonProperty("class") String incidentClass, AlertDetails customDetails) {
	}

	record Link(String href, String text) {
	}

	/**
	 * What goes over the wire: the routing key and the stored event. The stored event passes through as it is, so
	 * a row written by an earlier version is sent as that version built it.
	 */
	record Routed(@JsonProperty("routing_key") String routingKey, @JsonAnyGetter Map<String, JsonNode> event) {
	}

}
