package io.pglockwatch.alert;

import static io.pglockwatch.alert.AlertHarness.PATIENCE;
import static io.pglockwatch.alert.AlertHarness.ROUTING_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Map;

import io.pglockwatch.alert.AlertHarness.Incidents;
import io.pglockwatch.alert.AlertHarness.Settings;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.IncidentEvent.Type;
import io.pglockwatch.testsupport.FakePagerDuty;
import io.pglockwatch.testsupport.FakePagerDuty.Reply;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;

/**
 * The {@code alerts} health component over a real outbox: a channel that answers 400 shows as rejecting in the
 * details, while the status stays UP (a restart would not fix a routing key).
 */
class AlertsHealthIndicatorTests {

	@AutoClose
	private FakePagerDuty pagerDuty;

	@AutoClose
	private AlertHarness harness;


	private AlertHarness startAgainstFake() {
		this.pagerDuty = FakePagerDuty.start(ROUTING_KEY);
		this.harness = AlertHarness.start(Settings.pagerDuty(this.pagerDuty.url()));
		return this.harness;
	}

	@Test
	void withNothingSentEveryChannelIsListedAndNoneRejects() {
		AlertHarness alerts = startAgainstFake();
		AlertsHealthIndicator indicator = new AlertsHealthIndicator(new AlertDelivery(alerts.outbox, alerts.alerts));

		Health health = indicator.health();

		assertThat(health.getStatus()).isEqualTo(Status.UP);
		assertThat(channel(health, "pagerduty")).containsEntry("enabled", true)
			.containsEntry("pending", 0L)
			.containsEntry("failed", 0L)
			.containsEntry("rejecting", false)
			.doesNotContainKey("lastFailed");
		assertThat(channel(health, "webhook")).containsEntry("enabled", false).containsEntry("rejecting", false);
	}

	@Test
	void aRejectedEventShowsInTheDetailsUntilTheChannelAcceptsOneAgainAndTheStatusStaysUp() {
		AlertHarness alerts = startAgainstFake();
		AlertDelivery delivery = new AlertDelivery(alerts.outbox, alerts.alerts);
		AlertsHealthIndicator indicator = new AlertsHealthIndicator(delivery);
		// what the Events API answers a routing key it does not know
		this.pagerDuty.enqueue(Reply.json(400, "{\"status\":\"invalid event\",\"message\":\"Event object is invalid\","
				+ "\"errors\":[\"Invalid routing key\"]}"));
		Incident incident = Incidents.ddlQueue("orders", 4301);

		alerts.publish(Type.OPENED, incident);

		await().atMost(PATIENCE).pollInterval(Duration.ofMillis(20)).until(() -> !delivery.rejecting().isEmpty());
		Health health = indicator.health();
		assertThat(health.getStatus()).isEqualTo(Status.UP);
		Map<String, Object> pagerDuty = channel(health, "pagerduty");
		assertThat(pagerDuty).containsEntry("rejecting", true)
			.containsEntry("failed", 1L)
			.containsEntry("failedSinceLastSent", 1L)
			.containsEntry("sent", 0L);
		assertThat(pagerDuty.get("lastFailed")).asInstanceOf(InstanceOfAssertFactories.MAP)
			.containsEntry("incidentId", incident.id())
			.containsEntry("action", "trigger")
			.containsEntry("lastStatus", 400);
		// counts and ids only: never the key, the payload or the receiver's answer
		assertThat(health.getDetails().toString()).doesNotContain(ROUTING_KEY).doesNotContain("Invalid routing key");
		assertThat(alerts.counter(AlertChannel.PAGERDUTY, "trigger", "rejected")).isEqualTo(1);

		// the key is fixed: the next event is accepted and the channel no longer rejects; the lost one stays failed
		alerts.publish(Type.RESOLVED, Incidents.resolved(incident));
		this.pagerDuty.awaitEvents(1, PATIENCE);
		await().atMost(PATIENCE).pollInterval(Duration.ofMillis(20)).until(() -> delivery.rejecting().isEmpty());
		assertThat(channel(indicator.health(), "pagerduty")).containsEntry("rejecting", false)
			.containsEntry("failed", 1L)
			.containsEntry("failedSinceLastSent", 0L)
			.containsEntry("sent", 1L)
			.containsKey("lastFailed");
	}

	@Test
	void aChannelThatIsOffIsNeverSaidToReject() {
		this.pagerDuty = FakePagerDuty.start(ROUTING_KEY);
		this.pagerDuty.enqueue(Reply.status(400));
		this.harness = AlertHarness.start(Settings.pagerDuty(this.pagerDuty.url()));
		Incident incident = Incidents.ddlQueue("orders", 4302);
		this.harness.publish(Type.OPENED, incident);
		await().atMost(PATIENCE)
			.pollInterval(Duration.ofMillis(20))
			.until(() -> this.harness.rows(incident).get(0).state() == OutboxEntry.State.FAILED);

		// the same outbox, read by a service whose PagerDuty channel was turned off since
		AlertProperties off = new AlertProperties(new AlertProperties.PagerDuty("", AlertHarness.Settings.PAGERDUTY_DEFAULT_URL),
				this.harness.alerts.webhook(), this.harness.alerts.dashboardUrl(), this.harness.alerts.delivery());
		AlertDelivery delivery = new AlertDelivery(this.harness.outbox, off);

		assertThat(delivery.rejecting()).isEmpty();
		assertThat(delivery.channels().get(0).events().failedSinceLastSent()).isEqualTo(1);
	}

	@SuppressWarnings("unchecked")
	private static Map<String, Object> channel(Health health, String channel) {
		return (Map<String, Object>) health.getDetails().get(channel);
	}

}
