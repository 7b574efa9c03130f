package io.pglockwatch.alert;

import java.time.Clock;

import io.pglockwatch.guard.GuardAlertNote;
import io.pglockwatch.cluster.Cluster;
import io.pglockwatch.poll.TargetsProperties;
import io.pglockwatch.incident.StoreWriter;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;
import org.springframework.web.client.RestClient;

/** Alert channels: the outbox in the incident store, what fills it, and the sender that empties it. */
@Configuration(proxyBeanMethods = false)
class AlertConfiguration {

	private static final String SENDER_SCHEDULER = "alertSenderScheduler";

	private static final String DIRECT_SCHEDULER = "alertDirectScheduler";

	@Bean
	AlertOutbox alertOutbox(JdbcClient jdbc, StoreWriter writes, Cluster cluster) {
		return new AlertOutbox(jdbc, writes, cluster);
	}

	@Bean
	AlertDelivery alertDelivery(AlertOutbox outbox, AlertProperties alerts) {
		return new AlertDelivery(outbox, alerts);
	}

	/** Named so the health component is {@code alerts}. */
	@Bean
	AlertsHealthIndicator alertsHealthIndicator(AlertDelivery delivery) {
		return new AlertsHealthIndicator(delivery);
	}

	/**
	 * The sender's own thread. Not a default candidate: as a plain TaskScheduler (and Executor) bean it would make
	 * Boot back off from its application task executor and scheduler, and serve other features' tasks.
	 */
	@Bean(name = SENDER_SCHEDULER, defaultCandidate = false)
	ThreadPoolTaskScheduler alertSenderScheduler(AlertProperties alerts) {
		return senderScheduler(alerts);
	}

	/** The sender's second thread, for events waiting in memory while the store fails; see {@link AlertSender}. */
	@Bean(name = DIRECT_SCHEDULER, defaultCandidate = false)
	ThreadPoolTaskScheduler alertDirectScheduler(AlertProperties alerts) {
		ThreadPoolTaskScheduler scheduler = senderScheduler(alerts);
		scheduler.setThreadNamePrefix("pglockwatch-alert-direct-");
		return scheduler;
	}

	@Bean
	AlertSender alertSender(AlertOutbox outbox, AlertProperties alerts, JsonMapper json, Clock clock,
			RestClient.Builder http, @Qualifier(SENDER_SCHEDULER) ThreadPoolTaskScheduler scheduler,
			@Qualifier(DIRECT_SCHEDULER) ThreadPoolTaskScheduler direct, StoreWriter writes, Cluster cluster,
			TargetsProperties targets) {
		return new AlertSender(outbox, alerts, json, clock, http, scheduler, direct, writes, cluster, targets.names());
	}

	@Bean
	AlertEnqueuer alertEnqueuer(AlertOutbox outbox, AlertProperties alerts, JsonMapper json, AlertSender sender,
			Clock clock, GuardAlertNote guardNote) {
		String dashboard = alerts.dashboardUrl();
		return new AlertEnqueuer(outbox, new AlertPayloads(json, dashboard == null ? "" : dashboard), alerts, sender,
				clock, guardNote::about);
	}

	/**
	 * One thread, so passes never overlap (the rate windows are the sender's alone). On shutdown it lets a pass
	 * under way finish its request and mark the outbox, or the event would be sent again after a restart.
	 */
	static ThreadPoolTaskScheduler senderScheduler(AlertProperties alerts) {
		ThreadPoolTaskScheduler scheduler = new ThreadPoolTaskScheduler();
		scheduler.setPoolSize(1);
		scheduler.setThreadNamePrefix("pglockwatch-alert-sender-");
		scheduler.setDaemon(true);
		scheduler.setWaitForTasksToCompleteOnShutdown(true);
		scheduler.setAwaitTerminationMillis(alerts.delivery().requestTimeout().toMillis() + 1000);
		return scheduler;
	}

}
