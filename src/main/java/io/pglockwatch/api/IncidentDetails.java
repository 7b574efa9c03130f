package io.pglockwatch.api;

import java.util.Optional;

import io.pglockwatch.alert.AlertOutbox;
import io.pglockwatch.guard.GuardLog;
import io.pglockwatch.incident.IncidentStore;
import io.pglockwatch.incident.PeakGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.stereotype.Component;

/**
 * One incident with everything recorded about it, as {@code GET /api/v1/incidents/{id}} gives it (also the incident
 * page's JSON download): the incident, its timeline, the graph at its peak, its alert events and the guard's actions.
 */
@Component
class IncidentDetails {

	private static final Logger logger = LoggerFactory.getLogger(IncidentDetails.class);

	private final IncidentStore store;

	private final AlertOutbox alerts;

	private final GuardLog guardLog;

	private final JsonMapper json;

	IncidentDetails(IncidentStore store, AlertOutbox alerts, GuardLog guardLog, JsonMapper json) {
		this.store = store;
		this.alerts = alerts;
		this.guardLog = guardLog;
		this.json = json;
	}

	/** Empty when there is no incident {@code id}. */
	Optional<IncidentView.Detail> of(String id) {
		return this.store.findById(id).map((incident) -> new IncidentView.Detail(IncidentView.of(incident),
				this.store.timeline(id).stream().map(IncidentView.Point::of).toList(),
				this.store.peakGraph(id).map((stored) -> graphAtPeak(id, stored)).orElse(null),
				this.alerts.forIncident(id).stream().map(IncidentView.Alert::of).toList(),
				this.guardLog.forIncident(incident.dedupKey()).stream().map(IncidentView.GuardActionView::of).toList()));
	}

	/** The stored graph at peak in the API's form; null, and a warning in the log, when it cannot be read. */
	private GraphView graphAtPeak(String id, String stored) {
		try {
			return GraphView.of(PeakGraph.read(this.json, stored));
		}
		catch (PeakGraph.UnreadableException ex) {
			// the incident itself is still worth serving: a 500 would hide it too
			logger.warn("Incident {}: {}; serving it with graphAtPeak null", id, ex.getMessage());
			return null;
		}
	}

}
