package io.pglockwatch.alert;

import java.time.Clock;
import java.util.Map;

import io.pglockwatch.cluster.Fence;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.IncidentEvent;
import io.pglockwatch.incident.IncidentListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.dao.DataAccessException;

/**
 * Turns incident events into outbox entries for every channel that is on. PagerDuty appends a second
 * trigger with the same dedup key to the open alert without raising its severity, so escalation is a
 * second alert keyed {@code <key>/critical}, resolved together with the first. Runs on the incident writer
 * events thread, right after the incident's writes were queued: the outbox holds the events in memory until the
 * store takes them, so a page never waits for the store.
 */
final class AlertEnqueuer implements IncidentListener {

	static final String CRITICAL_SUFFIX = "/critical";

	private static final Logger logger = LoggerFactory.getLogger(AlertEnqueuer.class);

	private final AlertOutbox outbox;

	private final AlertPayloads payloads;

	private final AlertProperties alerts;

	private final AlertSender sender;

	private final Clock clock;

	private final GuardNote guard;

	/** What the alert says about the guard: its plan and what it has done so far for this incident. */
	@FunctionalInterface
	interface GuardNote {

		Map<String, Object> about(Incident incident);

	}

	AlertEnqueuer(AlertOutbox outbox, AlertPayloads payloads, AlertProperties alerts, AlertSender sender, Clock clock,
			GuardNote guard) {
		this.outbox = outbox;
		this.payloads = payloads;
		this.alerts = alerts;
		this.sender = sender;
		this.clock = clock;
		this.guard = guard;
	}

	@Override
	public void onIncidentEvent(IncidentEvent event, String peakGraph, Fence fence) {
		if (event.type() == IncidentEvent.Type.UPDATED) {
			return;
		}
		Incident incident = event.incident();
		String key = incident.dedupKey();
		String graph = (event.type() == IncidentEvent.Type.RESOLVED) ? null : peakGraph;
		Map<String, Object> guardNote = guardNote(incident);
		if (this.alerts.pagerduty().enabled()) {
			switch (event.type()) {
				case OPENED -> add(fence, incident, AlertAction.TRIGGER, key,
						this.payloads.trigger(incident, key, false, graph, guardNote));
				case ESCALATED -> add(fence, incident, AlertAction.TRIGGER, key + CRITICAL_SUFFIX,
						this.payloads.trigger(incident, key + CRITICAL_SUFFIX, true, graph, guardNote));
				case RESOLVED -> {
					add(fence, incident, AlertAction.RESOLVE, key, this.payloads.resolve(key));
					if (incident.escalatedAt() != null) {
						add(fence, incident, AlertAction.RESOLVE, key + CRITICAL_SUFFIX,
								this.payloads.resolve(key + CRITICAL_SUFFIX));
					}
				}
				default -> {
				}
			}
		}
		if (this.alerts.webhook().enabled()) {
			AlertAction action = switch (event.type()) {
				case OPENED -> AlertAction.OPENED;
				case ESCALATED -> AlertAction.ESCALATED;
				default -> AlertAction.RESOLVED;
			};
			add(fence, incident, action, key, this.payloads.webhook(action, incident, graph, guardNote));
		}
		this.sender.wake();
	}

	/** What the guard did is read from the store; while it cannot be read, the alert goes out without it. */
	private Map<String, Object> guardNote(Incident incident) {
		try {
			return this.guard.about(incident);
		}
		catch (DataAccessException ex) {
			logger.warn("Alert for incident {} goes out without the guard's actions: the store cannot be read ({})",
					incident.id(), ex.getClass().getSimpleName());
			return Map.of("actions", "unknown: the incident store cannot be read");
		}
	}

	private void add(Fence fence, Incident incident, AlertAction action, String key, Object body) {
		this.outbox.add(incident.id(), incident.target(), action, key, this.payloads.write(body), this.clock.instant(),
				fence);
	}

}
