package io.pglockwatch.alert;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.annotation.JsonValue;

/**
 * What an alert event says: PagerDuty's {@code event_action} or the webhook's {@code event}. The outbox stores
 * the label, so rows written before this type existed read back unchanged.
 */
public enum AlertAction {

	TRIGGER(AlertChannel.PAGERDUTY), RESOLVE(AlertChannel.PAGERDUTY),

	OPENED(AlertChannel.WEBHOOK), ESCALATED(AlertChannel.WEBHOOK), RESOLVED(AlertChannel.WEBHOOK);

	private final AlertChannel channel;

	AlertAction(AlertChannel channel) {
		this.channel = channel;
	}

	/** The channel that speaks this action. */
	public AlertChannel channel() {
		return this.channel;
	}

	/** As stored, sent and tagged: {@code trigger}, {@code opened}. */
	@JsonValue
	public String label() {
		return name().toLowerCase(Locale.ROOT);
	}

	public static AlertAction of(String label) {
		return valueOf(label.toUpperCase(Locale.ROOT));
	}

	/** The actions a channel sends, in lifecycle order. */
	static List<AlertAction> of(AlertChannel channel) {
		return Arrays.stream(values()).filter((action) -> action.channel == channel).toList();
	}

}
