package io.pglockwatch.alert;

import java.time.Duration;
import java.util.Iterator;

import io.pglockwatch.detect.DdlFacts;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.detect.SessionFacts;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Builds alert bodies from incidents: PagerDuty Events API v2 events and webhook posts. The summary says
 * first what a person paged at night needs; the details carry the structured facts and the top of the
 * graph, bounded so an event stays far below PagerDuty's 512 KB limit. The routing key is not part of
 * what is built here; the sender adds it.
 */
public final class AlertPayloads {

	static final int MAX_SUMMARY = 1024;

	static final int MAX_STATEMENT = 1000;

	static final int GRAPH_ROOTS = 5;

	static final int GRAPH_QUEUED = 10;

	private final JsonMapper json;

	private final String dashboardUrl;

	AlertPayloads(JsonMapper json, String dashboardUrl) {
		this.json = json;
		this.dashboardUrl = dashboardUrl.endsWith("/") ? dashboardUrl.substring(0, dashboardUrl.length() - 1)
				: dashboardUrl;
	}

	String link(Incident incident) {
		return this.dashboardUrl + "/incidents/" + incident.id();
	}

	/** A PagerDuty trigger; {@code critical} makes the escalation alert with its own dedup key. */
	ObjectNode trigger(Incident incident, String dedupKey, boolean critical, String peakGraphJson) {
		return trigger(incident, dedupKey, critical, peakGraphJson, java.util.Map.of());
	}

	ObjectNode trigger(Incident incident, String dedupKey, boolean critical, String peakGraphJson,
			java.util.Map<String, Object> guard) {
		ObjectNode event = this.json.createObjectNode();
		event.put("event_action", "trigger");
		event.put("dedup_key", dedupKey);
		ObjectNode payload = event.putObject("payload");
		payload.put("summary", cutSummary((critical ? "CRITICAL " : "") + summary(incident)));
		payload.put("source", incident.target());
		payload.put("severity", critical ? "critical" : "warning");
		payload.put("timestamp", (critical && incident.escalatedAt() != null ? incident.escalatedAt()
				: incident.openedAt()).toString());
		if (incident.relation() != null) {
			payload.put("component", incident.relation());
		}
		if (incident.database() != null) {
			payload.put("group", incident.database());
		}
		payload.put("class", incident.kind().label());
		payload.set("custom_details", details(incident, peakGraphJson, guard));
		ArrayNode links = event.putArray("links");
		links.addObject().put("href", link(incident)).put("text", "pg-lockwatch incident " + incident.id());
		event.put("client", "pg-lockwatch");
		event.put("client_url", link(incident));
		return event;
	}

	ObjectNode resolve(String dedupKey) {
		ObjectNode event = this.json.createObjectNode();
		event.put("event_action", "resolve");
		event.put("dedup_key", dedupKey);
		return event;
	}

	/** The webhook body: {@code {event, incident}}. */
	ObjectNode webhook(String event, Incident incident, String peakGraphJson) {
		return webhook(event, incident, peakGraphJson, java.util.Map.of());
	}

	ObjectNode webhook(String event, Incident incident, String peakGraphJson, java.util.Map<String, Object> guard) {
		ObjectNode body = this.json.createObjectNode();
		body.put("event", event);
		ObjectNode i = body.putObject("incident");
		i.put("id", incident.id());
		i.put("dedupKey", incident.dedupKey());
		i.put("target", incident.target());
		i.put("kind", incident.kind().label());
		i.put("severity", incident.severity().label());
		i.put("state", incident.state().label());
		i.put("summary", summary(incident));
		i.put("link", link(incident));
		putInstant(i, "openedAt", incident.openedAt());
		putInstant(i, "escalatedAt", incident.escalatedAt());
		putInstant(i, "resolvedAt", incident.resolvedAt());
		i.put("database", incident.database());
		i.put("relation", incident.relation());
		i.put("queueDepth", incident.queueDepth());
		i.put("peakQueueDepth", incident.peakQueueDepth());
		i.set("details", details(incident, peakGraphJson, guard));
		return body;
	}

	/**
	 * E.g. {@code orders: ALTER TABLE public.users waits for AccessExclusiveLock 42s; 37 sessions queued; root
	 * blocker pid 4242 idle in transaction 12m (app reporting)}.
	 */
	public static String summary(Incident incident) {
		String text = switch (incident.kind()) {
			case DDL_LOCK_QUEUE -> ddlSummary(incident);
			case BLOCKING_CHAIN -> incident.target() + ": " + who(incident.rootBlocker()) + " blocks "
					+ incident.peakQueueDepth() + " sessions; longest wait " + human(incident.peakMaxWait());
			case IDLE_BLOCKER -> incident.target() + ": " + who(incident.rootBlocker()) + " blocks "
					+ incident.peakQueueDepth() + " sessions";
		};
		return cutSummary(text);
	}

	private static String cutSummary(String text) {
		return text.length() <= MAX_SUMMARY ? text : text.substring(0, MAX_SUMMARY - 1) + "…";
	}

	private static String ddlSummary(Incident incident) {
		DdlFacts ddl = incident.ddl();
		String statement = ddl.session().commandTag() != null ? ddl.session().commandTag() : "DDL";
		StringBuilder text = new StringBuilder(incident.target()).append(": ")
			.append(statement)
			.append(' ')
			.append(ddl.relation())
			.append(" waits for ")
			.append(ddl.mode().pgName())
			.append(' ')
			.append(human(ddl.waited()))
			.append("; ")
			.append(Math.max(incident.queueDepth(), incident.peakQueueDepth()))
			.append(" sessions queued");
		if (incident.rootBlocker() != null) {
			text.append("; root blocker ").append(who(incident.rootBlocker()));
		}
		return text.toString();
	}

	/** {@code pid 4242 idle in transaction 12m (app reporting)} */
	static String who(SessionFacts s) {
		if (s == null) {
			return "unknown session";
		}
		if (s.preparedGid() != null) {
			return "prepared transaction '" + s.preparedGid() + "' " + human(s.transactionAge());
		}
		StringBuilder text = new StringBuilder("pid ").append(s.pid());
		if (s.state() != null) {
			text.append(' ').append(s.state());
			Duration age = s.idleFor() != null ? s.idleFor() : s.transactionAge();
			if (age != null) {
				text.append(' ').append(human(age));
			}
		}
		if (s.applicationName() != null && !s.applicationName().isBlank()) {
			text.append(" (app ").append(s.applicationName()).append(')');
		}
		return text.toString();
	}

	/** 42s, 12m, 1h05m */
	static String human(Duration duration) {
		if (duration == null) {
			return "?";
		}
		long seconds = duration.toSeconds();
		if (seconds < 60) {
			return seconds + "s";
		}
		if (seconds < 3600) {
			return (seconds / 60) + "m";
		}
		return (seconds / 3600) + "h" + String.format("%02dm", (seconds % 3600) / 60);
	}

	private ObjectNode details(Incident incident, String peakGraphJson, java.util.Map<String, Object> guard) {
		ObjectNode details = this.json.createObjectNode();
		details.put("incident_id", incident.id());
		details.put("state", incident.state().label());
		details.put("queue_depth", incident.queueDepth());
		details.put("peak_queue_depth", incident.peakQueueDepth());
		if (incident.peakMaxWait() != null) {
			details.put("max_wait_seconds", incident.peakMaxWait().toMillis() / 1000.0);
		}
		if (incident.ddl() != null) {
			ObjectNode ddl = session(details.putObject("ddl"), incident.ddl().session());
			ddl.put("mode", incident.ddl().mode().pgName());
			ddl.put("relation", incident.ddl().relation());
			ddl.put("wait_seconds", incident.ddl().waited().toMillis() / 1000.0);
		}
		if (incident.rootBlocker() != null) {
			session(details.putObject("root_blocker"), incident.rootBlocker());
		}
		details.put("what_to_do", whatToDo(incident));
		if (!guard.isEmpty()) {
			details.set("guard", this.json.valueToTree(guard));
		}
		if (peakGraphJson != null) {
			details.set("graph_top", graphTop(peakGraphJson));
		}
		return details;
	}

	private static String whatToDo(Incident incident) {
		String root = incident.rootBlocker() == null ? null
				: (incident.rootBlocker().preparedGid() != null
						? "ROLLBACK PREPARED '" + incident.rootBlocker().preparedGid() + "'"
						: "SELECT pg_terminate_backend(" + incident.rootBlocker().pid() + ")");
		if (incident.kind() == IncidentKind.DDL_LOCK_QUEUE) {
			return "Cancel the DDL to drain the queue now: SELECT pg_cancel_backend(" + incident.ddl().session().pid()
					+ ")" + (root != null ? "; or end what it waits for: " + root : "")
					+ ". Then rerun the migration with SET lock_timeout = '2s' and retries.";
		}
		return root != null ? "End the root blocker if it is safe to: " + root : "Find the root blocker in the graph";
	}

	private static ObjectNode session(ObjectNode node, SessionFacts s) {
		node.put("pid", s.pid());
		if (s.preparedGid() != null) {
			node.put("prepared_gid", s.preparedGid());
		}
		node.put("state", s.state());
		node.put("application", s.applicationName());
		node.put("user", s.user());
		node.put("client", s.clientAddress());
		node.put("database", s.database());
		if (s.transactionAge() != null) {
			node.put("transaction_age_seconds", s.transactionAge().toSeconds());
		}
		if (s.idleFor() != null) {
			node.put("idle_seconds", s.idleFor().toSeconds());
		}
		String statement = s.statement();
		if (statement != null && statement.length() > MAX_STATEMENT) {
			statement = statement.substring(0, MAX_STATEMENT) + "…";
		}
		node.put("statement", statement);
		return node;
	}

	/** The first roots and the head of the deepest DDL queue of the graph at peak; never the whole graph. */
	private JsonNode graphTop(String peakGraphJson) {
		JsonNode graph = this.json.readTree(peakGraphJson);
		ObjectNode top = this.json.createObjectNode();
		top.put("session_count", graph.path("sessionCount").asInt());
		top.put("edge_count", graph.path("edgeCount").asInt());
		ArrayNode roots = top.putArray("roots");
		limit(graph.path("roots").iterator(), GRAPH_ROOTS, roots);
		JsonNode queue = graph.path("ddlQueues").path(0);
		if (!queue.isMissingNode()) {
			ObjectNode ddl = top.putObject("ddl_queue");
			for (String field : new String[] { "pid", "relation", "mode", "waitSeconds", "queueDepth" }) {
				ddl.set(field, queue.path(field));
			}
			ddl.set("rootBlockerPids", queue.path("rootBlockerPids"));
			limit(queue.path("queued").iterator(), GRAPH_QUEUED, ddl.putArray("first_queued"));
		}
		return top;
	}

	private static void limit(Iterator<JsonNode> items, int max, ArrayNode into) {
		for (int i = 0; i < max && items.hasNext(); i++) {
			into.add(items.next());
		}
	}

	private static void putInstant(ObjectNode node, String field, java.time.Instant value) {
		if (value == null) {
			node.putNull(field);
		}
		else {
			node.put(field, value.toString());
		}
	}

}
