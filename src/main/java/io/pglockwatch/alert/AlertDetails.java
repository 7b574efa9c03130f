package io.pglockwatch.alert;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonInclude.Include;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.PropertyNamingStrategies.SnakeCaseStrategy;
import tools.jackson.databind.annotation.JsonNaming;

/**
 * The structured facts of an alert: PagerDuty's {@code custom_details} and the webhook's {@code details}, in
 * PagerDuty's snake_case for both. Parts the incident does not have are left out.
 *
 * @param maxWaitSeconds the longest wait at peak
 * @param ddl the waiting DDL, for a DDL lock queue
 * @param whatToDo the command that ends the incident now, and how to keep it from coming back
 * @param guard what the guard will do and has done; null when there is nothing to say
 * @param graphTop the top of the graph at peak; null for a resolve
 */
@JsonNaming(SnakeCaseStrategy.class)
@JsonInclude(Include.NON_NULL)
record AlertDetails(String incidentId, String state, int queueDepth, int peakQueueDepth, Double maxWaitSeconds,
		Ddl ddl, Session rootBlocker, String whatToDo, Map<String, Object> guard, GraphTop graphTop) {

	/**
	 * One session. What PostgreSQL may hide (state, application, user, client, database, statement) is present as
	 * null; ages are left out when unknown.
	 *
	 * @param preparedGid only for a prepared transaction
	 * @param statement cut at {@link AlertPayloads#MAX_STATEMENT} characters
	 */
	@JsonNaming(SnakeCaseStrategy.class)
	@JsonInclude(Include.NON_NULL)
	record Session(int pid, String preparedGid, @JsonInclude(Include.ALWAYS) String state,
			@JsonInclude(Include.ALWAYS) String application, @JsonInclude(Include.ALWAYS) String user,
			@JsonInclude(Include.ALWAYS) String client, @JsonInclude(Include.ALWAYS) String database,
			Long transactionAgeSeconds, Long idleSeconds, @JsonInclude(Include.ALWAYS) String statement) {
	}

	/** The waiting DDL: its session's fields, then what it waits for. */
	@JsonNaming(SnakeCaseStrategy.class)
	record Ddl(@JsonUnwrapped Session session, String mode, String relation, double waitSeconds) {
	}

	/** The first roots of the graph at peak and the head of its first DDL queue; never the whole graph. */
	@JsonNaming(SnakeCaseStrategy.class)
	@JsonInclude(Include.NON_NULL)
	record GraphTop(int sessionCount, int edgeCount, List<JsonNode> roots, DdlQueue ddlQueue) {
	}

	/**
	 * The head of a DDL queue. The fields taken over from the graph keep the graph's camelCase names, as alerts
	 * have always shown them; the roots and queued sessions are the graph's own nodes.
	 */
	@JsonInclude(Include.NON_NULL)
	record DdlQueue(Integer pid, String relation, String mode, Double waitSeconds, Integer queueDepth,
			List<Integer> rootBlockerPids, @JsonProperty("first_queued") List<JsonNode> firstQueued) {
	}

	/**
	 * The part of a stored graph (camelCase, as the graph writes it) that an alert reads. Boxed, since a graph
	 * stored by another version may lack a field: the alert goes out all the same.
	 */
	@JsonIgnoreProperties(ignoreUnknown = true)
	record PeakGraph(Integer sessionCount, Integer edgeCount, List<JsonNode> roots, List<PeakQueue> ddlQueues) {
	}

	@JsonIgnoreProperties(ignoreUnknown = true)
	record PeakQueue(Integer pid, String relation, String mode, Double waitSeconds, Integer queueDepth,
			List<Integer> rootBlockerPids, List<JsonNode> queued) {
	}

}
