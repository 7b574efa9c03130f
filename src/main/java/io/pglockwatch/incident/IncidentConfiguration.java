package io.pglockwatch.incident;

import java.time.Clock;

import io.pglockwatch.poll.PgLockwatchProperties;
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
	IncidentRecorder incidentRecorder(IncidentStore store, PgLockwatchProperties properties, JsonMapper json,
			ObjectProvider<IncidentListener> listeners, Clock clock) {
		return new IncidentRecorder(store, properties, json, listeners, clock);
	}

}
