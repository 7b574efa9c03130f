package io.pglockwatch.incident;

import java.time.Clock;

import io.pglockwatch.poll.TargetsProperties;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.simple.JdbcClient;

/** The incident store (Spring JDBC over {@code spring.datasource}, schema by Flyway) and its recorder. */
@Configuration(proxyBeanMethods = false)
class IncidentConfiguration {

	@Bean
	IncidentStore incidentStore(JdbcClient jdbc) {
		return new IncidentStore(jdbc);
	}

	@Bean
	IncidentRecorder incidentRecorder(IncidentStore store, TargetsProperties targets, DetectionProperties detection,
			IncidentProperties retention, JsonMapper json,
			ObjectProvider<IncidentListener> listeners, Clock clock) {
		return new IncidentRecorder(store, targets, detection, retention, json, listeners, clock);
	}

}
