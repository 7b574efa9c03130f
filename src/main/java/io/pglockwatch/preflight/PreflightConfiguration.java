package io.pglockwatch.preflight;

import io.pglockwatch.poll.TargetMonitor;
import io.pglockwatch.poll.TargetsProperties;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The preflight check, on the monitor's own sessions. */
@Configuration(proxyBeanMethods = false)
class PreflightConfiguration {

	@Bean
	PreflightService preflightService(TargetMonitor monitor, TargetsProperties targets) {
		return new PreflightService(monitor::connections, targets.queryText());
	}

}
