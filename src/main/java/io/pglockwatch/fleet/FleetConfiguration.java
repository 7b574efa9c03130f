package io.pglockwatch.fleet;

import java.time.Instant;

import javax.sql.DataSource;

import io.pglockwatch.cluster.Cluster;
import io.pglockwatch.poll.TargetAssignment;
import io.pglockwatch.poll.TargetStatus;

import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

/**
 * The fleet: a replica polls the targets of the shards it leads, publishes their states in the store, and shows the
 * others as their pollers published them.
 */
@Configuration(proxyBeanMethods = false)
class FleetConfiguration {

	/** A replica polls a target while it leads the target's shard (or led it when the store stopped answering). */
	@Bean
	TargetAssignment targetAssignment(Cluster cluster) {
		return new TargetAssignment() {

			@Override
			public boolean watches(String target) {
				return cluster.watches(target);
			}

			@Override
			public boolean settled() {
				return cluster.settled();
			}

		};
	}

	@Bean
	TargetStateTable targetStateTable(DataSource dataSource) {
		return new TargetStateTable(dataSource);
	}

	@Bean
	TargetStatePublisher targetStatePublisher(Cluster cluster, TargetStateTable table) {
		return new TargetStatePublisher(cluster, table, System::nanoTime);
	}

	@Bean
	TargetStateMirror targetStateMirror(Cluster cluster, TargetStateTable table, TargetStatus status) {
		return new TargetStateMirror(cluster, table, status);
	}

	@Bean
	FleetExchange fleetExchange(TargetStatePublisher publisher, TargetStateMirror mirror) {
		return new FleetExchange(publisher, mirror);
	}

	/** The thread that writes the states of polled targets and reads the others'. */
	static final class FleetExchange implements SmartLifecycle {

		private final TargetStatePublisher publisher;

		private final TargetStateMirror mirror;

		private ThreadPoolTaskScheduler scheduler;

		FleetExchange(TargetStatePublisher publisher, TargetStateMirror mirror) {
			this.publisher = publisher;
			this.mirror = mirror;
		}

		@Override
		public synchronized void start() {
			ThreadPoolTaskScheduler scheduler = new ThreadPoolTaskScheduler();
			scheduler.setPoolSize(1);
			scheduler.setThreadNamePrefix("pglockwatch-fleet-");
			scheduler.setDaemon(true);
			scheduler.initialize();
			scheduler.scheduleWithFixedDelay(this.publisher::flush, Instant.now().plus(TargetStatePublisher.FLUSH_EVERY),
					TargetStatePublisher.FLUSH_EVERY);
			scheduler.scheduleWithFixedDelay(this.mirror::read, TargetStateMirror.READ_EVERY);
			this.scheduler = scheduler;
		}

		@Override
		public synchronized void stop() {
			if (this.scheduler != null) {
				this.publisher.flush();
				this.scheduler.shutdown();
				this.scheduler = null;
			}
		}

		@Override
		public synchronized boolean isRunning() {
			return this.scheduler != null;
		}

	}

}
