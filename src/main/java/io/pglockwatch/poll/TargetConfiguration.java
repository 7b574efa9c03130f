package io.pglockwatch.poll;

import java.time.Clock;
import java.util.concurrent.Executor;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

/**
 * Wires the targets: their status board, the monitor that polls them, and the monitor's two thread pools. The
 * pools are not default candidates, so they are injected only where asked for by name: Boot's own
 * {@code applicationTaskExecutor} stays, and nothing else (an {@code @Scheduled} method, say) ever runs on the
 * tick thread and makes ticks late.
 */
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

	/** One thread for the ticks of all targets: a tick only decides and hands off, it never blocks. */
	@Bean(defaultCandidate = false)
	ThreadPoolTaskScheduler pollScheduler() {
		ThreadPoolTaskScheduler scheduler = new ThreadPoolTaskScheduler();
		scheduler.setPoolSize(1);
		scheduler.setThreadNamePrefix("pglockwatch-scheduler-");
		scheduler.setDaemon(true);
		scheduler.setRemoveOnCancelPolicy(true);
		return scheduler;
	}

	/**
	 * The polls: no core threads, no queue and no upper bound, so a poll always starts at once on an idle or
	 * new thread. A target whose server hangs holds one thread (polls of a target never overlap) and never
	 * makes another target's poll wait for a thread.
	 */
	@Bean(defaultCandidate = false)
	ThreadPoolTaskExecutor pollWorkers() {
		ThreadPoolTaskExecutor workers = new ThreadPoolTaskExecutor();
		workers.setCorePoolSize(0);
		workers.setQueueCapacity(0);
		workers.setKeepAliveSeconds(60);
		workers.setThreadNamePrefix("pglockwatch-poll-");
		workers.setDaemon(true);
		// on shutdown, polls still reading get this long before their threads are left behind
		workers.setAwaitTerminationSeconds(5);
		return workers;
	}

	@Bean
	TargetMonitor targetMonitor(TargetsProperties targets, PollProperties poll, TargetStatus status,
			ObjectProvider<PollListener> listeners, Clock clock, @Qualifier("pollScheduler") TaskScheduler scheduler,
			@Qualifier("pollWorkers") Executor workers, ObjectProvider<TargetAssignment> assignment) {
		return new TargetMonitor(targets, poll, status, listeners, clock, scheduler, workers,
				assignment.getIfAvailable(() -> TargetAssignment.ALL));
	}

	@Bean
	static ConfigurationCheck configurationCheck() {
		return new ConfigurationCheck();
	}

}
