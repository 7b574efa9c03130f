package io.pglockwatch.poll;

import java.time.Clock;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Wires the targets: their status board and the monitor that polls them. */
@Configuration(proxyBeanMethods = false)
class TargetConfiguration {

	@Bean
	@ConditionalOnMissingBean
	Clock clock() {
		return Clock.systemUTC();
	}

	@Bean
	TargetStatus targetStatus(PgLockwatchProperties properties) {
		return new TargetStatus(properties.targets().stream().map(PgLockwatchProperties.Target::name).toList());
	}

	@Bean
	TargetMonitor targetMonitor(PgLockwatchProperties properties, TargetStatus status,
			ObjectProvider<PollListener> listeners, Clock clock) {
		return new TargetMonitor(properties, status, listeners, clock);
	}

}
