package io.pglockwatch.guard;

import java.time.Clock;

import io.pglockwatch.cluster.Cluster;
import io.pglockwatch.incident.IncidentRecorder;
import io.pglockwatch.incident.StoreWriter;
import io.pglockwatch.poll.TargetConnections;
import io.pglockwatch.poll.TargetMonitor;
import io.pglockwatch.poll.TargetsProperties;

import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;

/** The guard, its policy, the thread that sends its signals, and its record of decisions. */
@Configuration(proxyBeanMethods = false)
class GuardConfiguration {

	@Bean
	GuardLog guardLog(JdbcClient jdbc, StoreWriter writes, Cluster cluster) {
		return new GuardLog(jdbc, writes, cluster);
	}

	@Bean
	GuardClaims guardClaims(JdbcClient jdbc, Cluster cluster, Clock clock) {
		return new GuardClaims(jdbc, cluster, clock);
	}

	@Bean
	GuardAlertNote guardAlertNote(GuardProperties guard, GuardLog log) {
		return new GuardAlertNote(guard, log);
	}

	@Bean
	GuardPolicy guardPolicy(GuardProperties guard) {
		return new GuardPolicy(guard, TargetConnections.APPLICATION_NAME);
	}

	/**
	 * One thread for the guard's signals, so they run one at a time and never on a poll thread. Signals already
	 * handed over still go out when the context closes, for at most 5 s. Not a default candidate, so it is injected
	 * only where named and Spring Boot still sets up its own application task executor.
	 */
	@Bean(defaultCandidate = false)
	ThreadPoolTaskExecutor guardSignals() {
		ThreadPoolTaskExecutor executor = new ThreadPoolTaskExecutor();
		executor.setCorePoolSize(1);
		executor.setMaxPoolSize(1);
		executor.setThreadNamePrefix("pglockwatch-guard-");
		executor.setDaemon(true);
		executor.setWaitForTasksToCompleteOnShutdown(true);
		executor.setAwaitTerminationSeconds(5);
		return executor;
	}

	@Bean
	Guard guard(GuardProperties guard, GuardPolicy policy, TargetsProperties targets, IncidentRecorder incidents,
			TargetMonitor monitor, GuardLog log, GuardClaims claims, Cluster cluster,
			@Qualifier("guardSignals") ThreadPoolTaskExecutor guardSignals) {
		return new Guard(guard, policy, targets, incidents, monitor, log, claims, cluster, guardSignals);
	}

}
