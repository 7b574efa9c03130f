package io.pglockwatch.alert;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import io.pglockwatch.alert.AlertOutbox.Tally;

/**
 * How delivery stands per channel, read from the outbox: for the dashboard's warning and the {@code alerts} health
 * details. A channel "rejects" while the newest event it settled was rejected for good (HTTP 400 and the like, counted
 * {@code outcome="rejected"}): those events stay {@code failed} and are never retried, so pages are being lost until
 * the configuration is fixed. Once the channel accepts an event again, it no longer rejects.
 */
public final class AlertDelivery {

	private final AlertOutbox outbox;

	private final AlertProperties alerts;

	public AlertDelivery(AlertOutbox outbox, AlertProperties alerts) {
		this.outbox = outbox;
		this.alerts = alerts;
	}

	/** Every channel, on or off, in declaration order. */
	public List<Channel> channels() {
		Map<AlertChannel, Tally> tally = this.outbox.tally();
		return Arrays.stream(AlertChannel.values())
			.map((channel) -> new Channel(channel, enabled(channel), tally.getOrDefault(channel, Tally.NONE)))
			.toList();
	}

	/** The channels that are on and reject what they are sent now. */
	public List<Channel> rejecting() {
		return channels().stream().filter(Channel::rejecting).toList();
	}

	private boolean enabled(AlertChannel channel) {
		return (channel == AlertChannel.PAGERDUTY) ? this.alerts.pagerduty().enabled() : this.alerts.webhook().enabled();
	}

	/**
	 * One channel.
	 *
	 * @param enabled whether it is configured now; a channel that is off is never said to reject
	 * @param events its events in the outbox by state
	 */
	public record Channel(AlertChannel channel, boolean enabled, Tally events) {

		public boolean rejecting() {
			return this.enabled && this.events.failedSinceLastSent() > 0;
		}

		/** {@code pagerduty}, {@code webhook}. */
		public String label() {
			return this.channel.label();
		}

	}

}
