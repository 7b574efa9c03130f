package io.pglockwatch.guard;

import io.pglockwatch.incident.IncidentRecorder;
import io.pglockwatch.poll.TargetConnections;
import io.pglockwatch.poll.TargetMonitor;
import io.pglockwatch.poll.TargetsProperties;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.simple.JdbcClient;

/** The guard, its policy and its record of decisions. */
@Configuration(proxyBeanMethods = false)
class GuardConfiguration {

	@Bean
	GuardLog guardLog(JdbcClient jdbc) {
		return new GuardLog(jdbc);
	}

	@Bean
	GuardAlertNote guardAlertNote(GuardProperties guard, GuardLog log) {
		return new GuardAlertNote(guard, log);
	}

	@Bean
	GuardPolicy guardPolicy(GuardProperties guard) {
		return new GuardPolicy(guard, TargetConnections.APPLICATION_NAME);
	}

	@Bean
	Guard guard(GuardProperties guard, GuardPolicy policy, TargetsProperties targets, IncidentRecorder incidents,
			TargetMonitor monitor, GuardLog log) {
		return new Guard(guard, policy, targets, incidents, monitor, log);
	}

}
