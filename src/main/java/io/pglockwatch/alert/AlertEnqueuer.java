package io.pglockwatch.alert;

import java.time.Clock;
import java.util.Map;

import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.IncidentEvent;
import io.pglockwatch.incident.IncidentListener;
import io.pglockwatch.incident.IncidentStore;

/**
 * Turns incident events into outbox entries for every channel that is on. PagerDuty appends a second
 * trigger with the same dedup key to the open alert without raising its severity, so escalation is a
 * second alert keyed {@code <key>/critical}, resolved together with the first. Runs on the incident writer
 * thread, after the incident itself is stored.
 */
final class AlertEnqueuer implements IncidentListener {

	static final String CRITICAL_SUFFIX = "/critical";

	private final AlertOutbox outbox;

	private final IncidentStore incidents;

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

	AlertEnqueuer(AlertOutbox outbox, IncidentStore incidents, AlertPayloads payloads,
			AlertProperties alerts, AlertSender sender, Clock clock, GuardNote guard) {
		this.outbox = outbox;
		this.incidents = incidents;
		this.payloads = payloads;
		this.alerts = alerts;
		this.sender = sender;
		this.clock = clock;
		this.guard = guard;
	}

	@Override
	public void onIncidentEvent(IncidentEvent event) {
		if (event.type() == IncidentEvent.Type.UPDATED) {
			return;
		}
		Incident incident = event.incident();
		String key = incident.dedupKey();
		String graph = (event.type() == IncidentEvent.Type.RESOLVED) ? null
				: this.incidents.peakGraph(incident.id()).orElse(null);
		Map<String, Object> guardNote = this.guard.about(incident);
		if (this.alerts.pagerduty().enabled()) {
			switch (event.type()) {
				case OPENED -> add(incident, AlertAction.TRIGGER, key,
						this.payloads.trigger(incident, key, false, graph, guardNote));
				case ESCALATED -> add(incident, AlertAction.TRIGGER, key + CRITICAL_SUFFIX,
						this.payloads.trigger(incident, key + CRITICAL_SUFFIX, true, graph, guardNote));
				case RESOLVED -> {
					add(incident, AlertAction.RESOLVE, key, this.payloads.resolve(key));
					if (incident.escalatedAt() != null) {
						add(incident, AlertAction.RESOLVE, key + CRITICAL_SUFFIX,
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
			add(incident, action, key, this.payloads.webhook(action, incident, graph, guardNote));
		}
		this.sender.wake();
	}

	private void add(Incident incident, AlertAction action, String key, Object body) {
		this.outbox.add(incident.id(), action, key, this.payloads.write(body), this.clock.instant());
	}

}
