package io.pglockwatch.alert;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import io.pglockwatch.alert.AlertDetails.DdlQueue;
import io.pglockwatch.alert.AlertDetails.GraphTop;
import io.pglockwatch.alert.AlertDetails.PeakGraph;
import io.pglockwatch.alert.AlertDetails.PeakQueue;
import io.pglockwatch.alert.AlertDetails.Session;
import io.pglockwatch.alert.PagerDutyEvent.Link;
import io.pglockwatch.alert.PagerDutyEvent.Payload;
import io.pglockwatch.alert.WebhookPost.WebhookIncident;
import io.pglockwatch.detect.DdlFacts;
import io.pglockwatch.detect.GateAttempt;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.detect.SessionFacts;
import io.pglockwatch.detect.Severity;
import tools.jackson.databind.json.JsonMapper;

/**
 * Builds alert bodies from incidents: PagerDuty Events API v2 events and webhook posts, as records that Jackson
 * writes. The summary says first what a person paged at night needs; the details carry the structured facts and
 * the top of the graph, bounded so an event stays far below PagerDuty's 512 KB limit. The routing key is not part
 * of what is built here; the sender adds it.
 */
public final class AlertPayloads {

	static final int MAX_SUMMARY = 1024;

	static final int MAX_STATEMENT = 1000;

	static final int GRAPH_ROOTS = 5;

	static final int GRAPH_QUEUED = 10;

	private static final String CLIENT = "pg-lockwatch";

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

	/** A body as the outbox stores it. */
	String write(Object body) {
		return this.json.writeValueAsString(body);
	}

	/** A PagerDuty trigger; {@code critical} makes the escalation alert with its own dedup key. */
	PagerDutyEvent trigger(Incident incident, String dedupKey, boolean critical, String peakGraphJson,
			Map<String, Object> guard) {
		Payload payload = new Payload(cutSummary((critical ? "CRITICAL " : "") + summary(incident)), incident.target(),
				(critical ? Severity.CRITICAL : Severity.WARNING).label(),
				(critical && incident.escalatedAt() != null) ? incident.escalatedAt() : incident.openedAt(),
				incident.relation(), incident.database(), incident.kind().label(),
				details(incident, peakGraphJson, guard));
		String link = link(incident);
		return new PagerDutyEvent(AlertAction.TRIGGER, dedupKey, payload,
				List.of(new Link(link, CLIENT + " incident " + incident.id())), CLIENT, link);
	}

	PagerDutyEvent resolve(String dedupKey) {
		return PagerDutyEvent.resolve(dedupKey);
	}

	/** The webhook body: {@code {event, incident}}. */
	WebhookPost webhook(AlertAction event, Incident incident, String peakGraphJson, Map<String, Object> guard) {
		return new WebhookPost(event, new WebhookIncident(incident.id(), incident.dedupKey(), incident.target(),
				incident.kind().label(), incident.severity().label(), incident.state().label(), summary(incident),
				link(incident), incident.openedAt(), incident.escalatedAt(), incident.resolvedAt(), incident.database(),
				incident.relation(), incident.queueDepth(), incident.peakQueueDepth(),
				details(incident, peakGraphJson, guard)));
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
			case REPLAY_LOCK_QUEUE -> replaySummary(incident);
		};
		return cutSummary(text);
	}

	private static String cutSummary(String text) {
		return text.length() <= MAX_SUMMARY ? text : text.substring(0, MAX_SUMMARY - 1) + "…";
	}

	/**
	 * E.g. {@code orders-replica (hot standby): 12 sessions wait for public.users behind WAL replay (startup process
	 * pid 31), which holds AccessExclusiveLock for a transaction on the primary; longest wait 42s; replay lag 40 s;
	 * held on orders-primary by pid 4242 idle in transaction 2m (app migrate, user deployer)}.
	 */
	private static String replaySummary(Incident incident) {
		DdlFacts lock = incident.ddl();
		StringBuilder text = new StringBuilder(incident.target()).append(" (hot standby): ")
			.append(Math.max(incident.queueDepth(), incident.peakQueueDepth()))
			.append(" sessions wait for ")
			.append((lock != null && lock.relation() != null) ? lock.relation() : "a relation")
			.append(" behind WAL replay (startup process pid ")
			.append(incident.rootBlocker() != null ? incident.rootBlocker().pid() : 0)
			.append("), which holds AccessExclusiveLock for a transaction on the primary; longest wait ")
			.append(human(incident.peakMaxWait()));
		String replay = (incident.rootBlocker() != null) ? incident.rootBlocker().statement() : null;
		int details = (replay != null) ? replay.indexOf("; ") : -1;
		if (details >= 0) {
			text.append(replay.substring(details));
		}
		return text.toString();
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
		GateAttempt gate = GateAttempt.of(ddl.session().applicationName());
		if (gate != null) {
			text.append("; ").append(gate.describe()).append(", outlived its own limits");
		}
		if (incident.rootBlocker() != null) {
			text.append("; root blocker ").append(who(incident.rootBlocker()));
		}
		return text.toString();
	}

	/** {@code pid 4242 idle in transaction 12m (app reporting)} */
	private static String who(SessionFacts s) {
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
	private static String human(Duration duration) {
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

	private AlertDetails details(Incident incident, String peakGraphJson, Map<String, Object> guard) {
		DdlFacts ddl = incident.ddl();
		return new AlertDetails(incident.id(), incident.state().label(), incident.queueDepth(),
				incident.peakQueueDepth(), (incident.peakMaxWait() != null) ? seconds(incident.peakMaxWait()) : null,
				(ddl != null) ? new AlertDetails.Ddl(session(ddl.session()), ddl.mode().pgName(), ddl.relation(),
						seconds(ddl.waited())) : null,
				(incident.rootBlocker() != null) ? session(incident.rootBlocker()) : null, whatToDo(incident),
				guard.isEmpty() ? null : guard, (peakGraphJson != null) ? graphTop(peakGraphJson) : null);
	}

	/** Fractional seconds, as every {@code *_seconds} detail but the session ages shows them. */
	private static double seconds(Duration duration) {
		return duration.toMillis() / 1000.0;
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

	private static Session session(SessionFacts s) {
		String statement = s.statement();
		if (statement != null && statement.length() > MAX_STATEMENT) {
			statement = statement.substring(0, MAX_STATEMENT) + "…";
		}
		return new Session(s.pid(), s.preparedGid(), s.state(), s.applicationName(), s.user(), s.clientAddress(),
				s.database(), (s.transactionAge() != null) ? s.transactionAge().toSeconds() : null,
				(s.idleFor() != null) ? s.idleFor().toSeconds() : null, statement);
	}

	/** The first roots and the head of the first DDL queue of the graph at peak; never the whole graph. */
	private GraphTop graphTop(String peakGraphJson) {
		PeakGraph graph = this.json.readValue(peakGraphJson, PeakGraph.class);
		DdlQueue ddlQueue = null;
		if (graph.ddlQueues() != null && !graph.ddlQueues().isEmpty()) {
			PeakQueue queue = graph.ddlQueues().get(0);
			ddlQueue = new DdlQueue(queue.pid(), queue.relation(), queue.mode(), queue.waitSeconds(), queue.queueDepth(),
					queue.rootBlockerPids(), first(queue.queued(), GRAPH_QUEUED));
		}
		return new GraphTop(Objects.requireNonNullElse(graph.sessionCount(), 0),
				Objects.requireNonNullElse(graph.edgeCount(), 0), first(graph.roots(), GRAPH_ROOTS), ddlQueue);
	}

	private static <T> List<T> first(List<T> items, int max) {
		return (items == null) ? List.of() : items.subList(0, Math.min(max, items.size()));
	}

}
