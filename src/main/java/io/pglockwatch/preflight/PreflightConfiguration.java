package io.pglockwatch.preflight;

import io.pglockwatch.target.PgLockwatchProperties;
import io.pglockwatch.target.TargetMonitor;

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
