package io.pglockwatch.alert;

import java.util.LinkedHashMap;
import java.util.Map;

import io.pglockwatch.alert.AlertOutbox.Tally;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;

/**
 * The {@code alerts} health component: per channel, the outbox's events by state and whether the channel rejects
 * events now. Always UP, even while pages are rejected: restarting or unreadying the pod would not fix a routing key,
 * and the probe groups must not fail for it (they hold only the liveness and readiness states anyway). The
 * problem is shown in the details, on the dashboard and by {@code PgLockwatchAlertRejected}. UNKNOWN when the
 * outbox cannot be read (the {@code db} component says why). Never the routing key, the payloads or error texts.
 */
final class AlertsHealthIndicator implements HealthIndicator {

	private final AlertDelivery delivery;

	AlertsHealthIndicator(AlertDelivery delivery) {
		this.delivery = delivery;
	}

	@Override
	public Health health() {
		Health.Builder health = Health.up();
		try {
			for (AlertDelivery.Channel channel : this.delivery.channels()) {
				health.withDetail(channel.label(), details(channel));
			}
		}
		catch (RuntimeException ex) {
			return Health.status(Status.UNKNOWN).withDetail("outbox", "not readable").build();
		}
		return health.build();
	}

	private static Map<String, Object> details(AlertDelivery.Channel channel) {
		Tally events = channel.events();
		Map<String, Object> details = new LinkedHashMap<>();
		details.put("enabled", channel.enabled());
		details.put("pending", events.pending());
		details.put("sent", events.sent());
		details.put("failed", events.failed());
		details.put("rejecting", channel.rejecting());
		details.put("failedSinceLastSent", events.failedSinceLastSent());
		OutboxEntry last = events.lastFailed();
		if (last != null) {
			Map<String, Object> lastFailed = new LinkedHashMap<>();
			lastFailed.put("incidentId", last.incidentId());
			lastFailed.put("action", last.action().label());
			lastFailed.put("createdAt", last.createdAt());
			lastFailed.put("lastStatus", last.lastStatus());
			details.put("lastFailed", lastFailed);
		}
		return details;
	}

}
