package io.pglockwatch.poll;

import java.time.Clock;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.ConfigurableEnvironment;

/** Wires the targets: their status board and the monitor that polls them. */
@Configuration(proxyBeanMethods = false)
class TargetConfiguration {

	@Bean
	@ConditionalOnMissingBean
	Clock clock() {
		return Clock.systemUTC();
	}

	@Bean
	TargetStatus targetStatus(TargetsProperties targets) {
		return new TargetStatus(targets.names());
	}

	@Bean
	TargetMonitor targetMonitor(TargetsProperties targets, PollProperties poll, TargetStatus status,
			ObjectProvider<PollListener> listeners, Clock clock) {
		return new TargetMonitor(targets, poll, status, listeners, clock);
	}

	@Bean
	UnknownPropertiesCheck unknownPropertiesCheck(ConfigurableEnvironment environment, ApplicationContext context) {
		return new UnknownPropertiesCheck(environment, context);
	}

}
