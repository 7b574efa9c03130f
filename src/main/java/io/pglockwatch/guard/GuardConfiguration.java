package io.pglockwatch.guard;

import io.pglockwatch.incident.IncidentRecorder;
import io.pglockwatch.poll.PgLockwatchProperties;
import io.pglockwatch.poll.TargetMonitor;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.simple.JdbcClient;

/** The guard and its record of decisions. */
@Configuration(proxyBeanMethods = false)
class GuardConfiguration {

	@Bean
	GuardLog guardLog(JdbcClient jdbc) {
		return new GuardLog(jdbc);
	}

	@Bean
	GuardAlertNote guardAlertNote(PgLockwatchProperties properties, GuardLog log) {
		return new GuardAlertNote(properties.guard(), log);
	}

	@Bean
	Guard guard(PgLockwatchProperties properties, IncidentRecorder incidents, TargetMonitor monitor, GuardLog log) {
		return new Guard(properties, incidents, monitor, log);
	}

}
