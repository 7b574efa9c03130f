package io.pglockwatch.alert;

import java.time.Clock;

import io.pglockwatch.guard.GuardAlertNote;
import io.pglockwatch.incident.IncidentStore;
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
	AlertSender alertSender(AlertOutbox outbox, AlertProperties alerts, JsonMapper json, Clock clock) {
		return new AlertSender(outbox, alerts, json, clock);
	}

	@Bean
	AlertEnqueuer alertEnqueuer(AlertOutbox outbox, IncidentStore incidents, AlertProperties alerts,
			JsonMapper json, AlertSender sender, Clock clock, GuardAlertNote guardNote) {
		String dashboard = alerts.dashboardUrl();
		return new AlertEnqueuer(outbox, incidents, new AlertPayloads(json, dashboard == null ? "" : dashboard),
				alerts, sender, clock, guardNote::about);
	}

}
