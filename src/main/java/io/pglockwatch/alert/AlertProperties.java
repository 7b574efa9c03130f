package io.pglockwatch.alert;

import java.time.Duration;

import jakarta.validation.Valid;
import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import org.hibernate.validator.constraints.time.DurationMin;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Alert channels ({@code pglockwatch.alerts.*}). A channel with an empty URL / routing key is off.
 *
 * @param pagerduty PagerDuty Events API v2
 * @param webhook a generic JSON webhook
 * @param dashboardUrl public URL of the dashboard, for the links in alerts; required when a channel is on
 * @param delivery timeouts, retries and rate of the sender
 */
@Validated
@ConfigurationProperties(prefix = "pglockwatch.alerts", ignoreUnknownFields = false)
public record AlertProperties(@Valid @DefaultValue PagerDuty pagerduty, @Valid @DefaultValue Webhook webhook,
		@Pattern(regexp = "(https?://.+)?", message = "must be an http(s) URL") @DefaultValue("") String dashboardUrl,
		@Valid @DefaultValue Delivery delivery) {

	/** An Events API v2 integration key, or nothing (blank included) for the channel off. */
	static final String ROUTING_KEY_PATTERN = "\\s*|[A-Za-z0-9]{32}";

	static final String ROUTING_KEY_MESSAGE = "must be the Events API v2 integration key of a PagerDuty service: "
			+ "exactly 32 letters and digits, with no spaces or line breaks (a key from a file or Secret often ends "
			+ "with one), or empty to turn PagerDuty off";

	@AssertTrue(message = "pglockwatch.alerts.dashboard-url must be set when an alert channel is on: alerts link to "
			+ "the incident page")
	boolean isDashboardUrlSetWhenAChannelIsOn() {
		boolean anyChannel = this.pagerduty.enabled() || this.webhook.enabled();
		return !anyChannel || (this.dashboardUrl != null && !this.dashboardUrl.isBlank());
	}

	/**
	 * @param routingKey the integration key of a PagerDuty service (Events API v2): 32 letters and digits; empty =
	 * channel off. A secret: never logged, stored or shown
	 * @param url the Events API v2 endpoint
	 */
	public record PagerDuty(
			// checked at startup: PagerDuty answers a key of any other shape with 400, which is never retried, so
			// the first real page would be lost. The message must not quote the key (it is a secret)
			@Pattern(regexp = ROUTING_KEY_PATTERN, message = ROUTING_KEY_MESSAGE) @DefaultValue("") String routingKey,
			@NotNull @Pattern(regexp = "https?://.+", message = "must be an http(s) URL") @DefaultValue("https://events.pagerduty.com/v2/enqueue") String url) {

		public boolean enabled() {
			return this.routingKey != null && !this.routingKey.isBlank();
		}

		@Override
		public String toString() {
			return "PagerDuty[routingKey=" + (enabled() ? "******" : "") + ", url=" + this.url + "]";
		}

	}

	/** @param url where {@code {event, incident}} JSON is posted; empty = channel off */
	public record Webhook(@Pattern(regexp = "(https?://.+)?", message = "must be an http(s) URL") @DefaultValue("") String url) {

		public boolean enabled() {
			return this.url != null && !this.url.isBlank();
		}

	}

	/**
	 * @param requestTimeout connect and response timeout of one delivery attempt
	 * @param initialBackoff wait before the first retry of a failed attempt; doubles per attempt, with jitter
	 * @param maxBackoff the longest wait between two attempts
	 * @param rateLimitedBackoff the wait after a 429 when the response names none (Retry-After)
	 * @param maxEventsPerMinute events per minute per channel; PagerDuty allows about 120 per routing key
	 */
	public record Delivery(
			@NotNull @DurationMin(millis = 100, message = "must be at least 100ms") @DefaultValue("10s") Duration requestTimeout,
			@NotNull @DurationMin(millis = 10, message = "must be at least 10ms") @DefaultValue("1s") Duration initialBackoff,
			@NotNull @DurationMin(millis = 10, message = "must be at least 10ms") @DefaultValue("5m") Duration maxBackoff,
			@NotNull @DurationMin(millis = 10, message = "must be at least 10ms") @DefaultValue("30s") Duration rateLimitedBackoff,
			@Min(value = 1, message = "must be at least 1") @DefaultValue("120") int maxEventsPerMinute) {
	}

}
