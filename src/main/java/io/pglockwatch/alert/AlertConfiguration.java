package io.pglockwatch.alert;

import java.time.Clock;

import io.pglockwatch.incident.IncidentStore;
import io.pglockwatch.target.PgLockwatchProperties;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.simple.JdbcClient;

/** Alert channels: the outbox in the incident store, what fills it, and the sender that empties it. */
@Configuration(proxyBeanMethods = false)
class AlertConfiguration {

	@Bean
	AlertOutbox alertOutbox(JdbcClient jdbc) {
		return new AlertOutbox(jdbc);
	}

	@Bean
	AlertSender alertSender(AlertOutbox outbox, PgLockwatchProperties properties, JsonMapper json, Clock clock) {
		return new AlertSender(outbox, properties.alerts(), json, clock);
	}

	@Bean
	AlertEnqueuer alertEnqueuer(AlertOutbox outbox, IncidentStore incidents, PgLockwatchProperties properties,
			JsonMapper json, AlertSender sender, Clock clock,
			org.springframework.beans.factory.ObjectProvider<io.pglockwatch.guard.GuardLog> guardLog) {
		String dashboard = properties.alerts().dashboardUrl();
		PgLockwatchProperties.Guard guard = properties.guard();
		AlertEnqueuer.GuardNote note = (incident) -> {
			java.util.Map<String, Object> about = new java.util.LinkedHashMap<>();
			about.put("mode", guard.mode().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
			if (guard.mode() != PgLockwatchProperties.Guard.GuardMode.OFF
					&& incident.kind() == io.pglockwatch.detect.IncidentKind.DDL_LOCK_QUEUE) {
				about.put("plan", "cancel the DDL once it has kept its queue " + guard.cancelDdlAfter().toSeconds() + " s");
			}
			io.pglockwatch.guard.GuardLog log = guardLog.getIfAvailable();
			if (log != null) {
				about.put("actions", log.forIncident(incident.dedupKey())
					.stream()
					.map((r) -> r.action() + " pid " + r.pid() + ": " + r.outcome() + " (" + r.actor() + ")")
					.toList());
			}
			return about;
		};
		return new AlertEnqueuer(outbox, incidents, new AlertPayloads(json, dashboard == null ? "" : dashboard),
				properties.alerts(), sender, clock, note);
	}

}
