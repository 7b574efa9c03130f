package io.pglockwatch.guard;

import java.util.LinkedHashMap;
import java.util.Map;

import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.IncidentKind;

/**
 * What an alert says about the guard ({@code custom_details.guard}): its mode, what it will do about this incident
 * and what it (or an operator) has done so far, so the person paged knows whether to act or to wait.
 */
public final class GuardAlertNote {

	private final GuardProperties config;

	private final GuardLog log;

	public GuardAlertNote(GuardProperties config, GuardLog log) {
		this.config = config;
		this.log = log;
	}

	/** {@code mode}, {@code plan} when the guard will act on this incident, and {@code actions} as recorded. */
	public Map<String, Object> about(Incident incident) {
		Map<String, Object> about = new LinkedHashMap<>();
		about.put("mode", this.config.mode().label());
		if (this.config.mode() != GuardMode.OFF && incident.kind() == IncidentKind.DDL_LOCK_QUEUE) {
			about.put("plan",
					"cancel the DDL once it has kept its queue " + this.config.cancelDdlAfter().toSeconds() + " s");
		}
		about.put("actions", this.log.forIncident(incident.dedupKey())
			.stream()
			.map((r) -> r.action().label() + " pid " + r.pid() + ": " + r.outcome().label() + " (" + r.actor() + ")")
			.toList());
		return about;
	}

}
