package io.pglockwatch.preflight;

import io.pglockwatch.poll.PgLockwatchProperties;
import io.pglockwatch.poll.TargetMonitor;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The preflight check, on the monitor's own sessions. */
@Configuration(proxyBeanMethods = false)
class PreflightConfiguration {

	@Bean
	PreflightService preflightService(TargetMonitor monitor, PgLockwatchProperties properties) {
		return new PreflightService(monitor::connections, properties.queryText());
	}

}
