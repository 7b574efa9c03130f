package io.pglockwatch.alert;

import static io.pglockwatch.alert.AlertHarness.PATIENCE;
import static io.pglockwatch.alert.AlertHarness.ROUTING_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Instant;
import java.util.List;

import io.pglockwatch.alert.AlertHarness.Incidents;
import io.pglockwatch.alert.AlertHarness.Settings;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.IncidentEvent.Type;
import io.pglockwatch.testsupport.FakePagerDuty;
import io.pglockwatch.testsupport.FakePagerDuty.Reply;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The webhook channel: {@code {event, incident}} posts with the same delivery rules as PagerDuty. */
class WebhookDeliveryTests {

	@AutoClose
	private FakePagerDuty webhook;

	@AutoClose
	private FakePagerDuty pagerDuty;

	@AutoClose
	private AlertHarness harness;


	@Test
	void postsEachIncidentEventWithTheIncident() {
		this.webhook = FakePagerDuty.startWebhook();
		this.harness = AlertHarness.start(Settings.webhook(this.webhook.url()));
		Incident opened = Incidents.ddlQueue("orders", 4301);
		Incident escalated = Incidents.escalated(opened);
		Incident resolved = Incidents.resolved(escalated);

		this.harness.publish(Type.OPENED, opened);
		this.harness.publish(Type.ESCALATED, escalated);
		this.harness.publish(Type.RESOLVED, resolved);

		List<FakePagerDuty.Event> events = this.webhook.awaitEvents(3, PATIENCE);
		assertThat(events).extracting(FakePagerDuty.Event::action).containsExactly("opened", "escalated", "resolved");
		JsonNode first = events.get(0).json().get("incident");
		assertThat(first.get("id").stringValue()).isEqualTo(opened.id());
		assertThat(first.get("dedupKey").stringValue()).isEqualTo(opened.dedupKey());
		assertThat(first.get("target").stringValue()).isEqualTo("orders");
		assertThat(first.get("kind").stringValue()).isEqualTo("ddl-lock-queue");
		assertThat(first.get("severity").stringValue()).isEqualTo("warning");
		assertThat(first.get("state").stringValue()).isEqualTo("open");
		assertThat(first.get("summary").stringValue()).startsWith("orders: ALTER TABLE public.users waits for");
		assertThat(first.get("link").stringValue()).isEqualTo("https://lockwatch.example.com/incidents/" + opened.id());
		assertThat(Instant.parse(first.get("openedAt").stringValue())).isEqualTo(opened.openedAt());
		assertThat(first.get("escalatedAt").isNull()).isTrue();
		assertThat(first.get("resolvedAt").isNull()).isTrue();
		assertThat(first.get("database").stringValue()).isEqualTo("app");
		assertThat(first.get("relation").stringValue()).isEqualTo("public.users");
		assertThat(first.get("queueDepth").asInt()).isEqualTo(37);
		assertThat(first.get("details").get("root_blocker").get("pid").asInt()).isEqualTo(4100);

		JsonNode second = events.get(1).json().get("incident");
		assertThat(second.get("severity").stringValue()).isEqualTo("critical");
		assertThat(second.get("state").stringValue()).isEqualTo("escalated");
		assertThat(Instant.parse(second.get("escalatedAt").stringValue())).isEqualTo(escalated.escalatedAt());
		JsonNode third = events.get(2).json().get("incident");
		assertThat(third.get("state").stringValue()).isEqualTo("resolved");
		assertThat(Instant.parse(third.get("resolvedAt").stringValue())).isEqualTo(resolved.resolvedAt());
		assertThat(third.get("queueDepth").asInt()).isZero();

		assertThat(this.webhook.violations()).isEmpty();
		assertThat(this.webhook.requests()).hasSize(3)
			.allSatisfy((r) -> assertThat(r.body()).doesNotContain("routing_key"));
		await().atMost(PATIENCE).until(() -> this.harness.rows(opened).stream()
			.allMatch((row) -> row.state() == OutboxEntry.State.SENT && row.lastStatus() == 200));
		assertThat(this.harness.rows(opened)).extracting(OutboxEntry::channel).containsOnly(AlertChannel.WEBHOOK);
		assertThat(this.harness.counter(AlertChannel.WEBHOOK, "escalated", "sent")).isEqualTo(1);
	}

	@Test
	void aServerErrorIsRetriedThenAccepted() {
		this.webhook = FakePagerDuty.startWebhook();
		this.webhook.enqueue(Reply.json(500, "{\"error\":\"upstream down\"}"));
		this.harness = AlertHarness.start(Settings.webhook(this.webhook.url()));
		Incident incident = Incidents.blockingChain("billing", 4302);

		this.harness.publish(Type.OPENED, incident);

		await().atMost(PATIENCE).until(() -> this.harness.rows(incident).get(0).state() == OutboxEntry.State.SENT);
		OutboxEntry row = this.harness.rows(incident).get(0);
		assertThat(row.attempts()).isEqualTo(2);
		assertThat(row.lastStatus()).isEqualTo(200);
		assertThat(row.lastError()).isNull();
		assertThat(this.webhook.requests()).extracting((r) -> r.reply().status()).containsExactly(500, 200);
		// both attempts carry the event's one stable id, in the body and the Idempotency-Key header, as stored
		assertThat(row.eventId()).isEqualTo(AlertOutbox.eventId(incident.id(), AlertAction.OPENED, incident.dedupKey()));
		assertThat(this.webhook.requests()).allSatisfy((r) -> {
			assertThat(r.header("Idempotency-Key")).containsExactly(row.eventId());
			assertThat(r.body()).contains("\"eventId\":\"" + row.eventId() + "\"");
		});
		assertThat(this.webhook.requests().get(0).until(this.webhook.requests().get(1)))
			.isGreaterThanOrEqualTo(AlertHarness.INITIAL_BACKOFF.dividedBy(2).minusMillis(10));
		assertThat(this.webhook.events()).singleElement()
			.satisfies((e) -> assertThat(e.json().get("incident").get("id").stringValue()).isEqualTo(incident.id()));
		assertThat(this.harness.counter(AlertChannel.WEBHOOK, "opened", "retried")).isEqualTo(1);
		assertThat(this.harness.counter(AlertChannel.WEBHOOK, "opened", "sent")).isEqualTo(1);
		assertThat(this.harness.logLines()).anySatisfy((line) -> assertThat(line).contains("to webhook failed (attempt 1)")
			.contains("HTTP 500").contains("upstream down"));
		assertThat(this.webhook.violations()).isEmpty();
	}

	@Test
	void aBadRequestIsNotRetried() {
		this.webhook = FakePagerDuty.startWebhook();
		this.webhook.enqueue(Reply.json(422, "{\"error\":\"unknown field\"}"));
		this.harness = AlertHarness.start(Settings.webhook(this.webhook.url()));
		Incident incident = Incidents.blockingChain("billing", 4303);

		this.harness.publish(Type.OPENED, incident);
		await().atMost(PATIENCE).until(() -> this.harness.rows(incident).get(0).state() == OutboxEntry.State.FAILED);
		this.harness.publish(Type.RESOLVED, Incidents.resolved(incident));

		this.webhook.awaitEvents(1, PATIENCE);
		await().atMost(PATIENCE).until(() -> this.harness.rows(incident).get(1).state() == OutboxEntry.State.SENT);
		assertThat(this.webhook.requests()).extracting((r) -> r.action() + " " + r.reply().status())
			.containsExactly("opened 422", "resolved 200");
		assertThat(this.harness.rows(incident).get(0).lastError()).isEqualTo("HTTP 422: {\"error\":\"unknown field\"}");
		assertThat(this.harness.counter(AlertChannel.WEBHOOK, "opened", "rejected")).isEqualTo(1);
	}

	@Test
	void aFailingPagerDutyDoesNotHoldUpTheWebhook() {
		this.webhook = FakePagerDuty.startWebhook();
		this.pagerDuty = FakePagerDuty.start(ROUTING_KEY).answerAllWith(() -> Reply.status(503));
		this.harness = AlertHarness.start(Settings.pagerDuty(this.pagerDuty.url()).withWebhook(this.webhook.url()));
		Incident opened = Incidents.ddlQueue("orders", 4304);

		this.harness.publish(Type.OPENED, opened);
		this.harness.publish(Type.RESOLVED, Incidents.resolved(opened));

		// order is per incident and channel: the webhook's resolve is not queued behind PagerDuty's trigger
		assertThat(this.webhook.awaitEvents(2, PATIENCE)).extracting(FakePagerDuty.Event::action)
			.containsExactly("opened", "resolved");
		await().atMost(PATIENCE).until(() -> this.pagerDuty.requests().size() >= 2);
		await().atMost(PATIENCE).until(() -> this.harness.outbox.inState(OutboxEntry.State.SENT, 10).size() == 2);
		assertThat(this.pagerDuty.requests()).allSatisfy((r) -> assertThat(r.action()).isEqualTo("trigger"));
		assertThat(this.harness.outbox.inState(OutboxEntry.State.PENDING, 10))
			.extracting((row) -> row.channel() + " " + row.action().label())
			.containsExactly("PAGERDUTY resolve", "PAGERDUTY trigger");
		assertThat(this.pagerDuty.violations()).isEmpty();
		assertThat(this.webhook.violations()).isEmpty();

		// PagerDuty is back: its events follow, trigger first
		this.pagerDuty.answerAllWith(null);
		assertThat(this.pagerDuty.awaitEvents(2, PATIENCE)).extracting(FakePagerDuty.Event::action)
			.containsExactly("trigger", "resolve");
		await().atMost(PATIENCE).until(() -> this.harness.outbox.inState(OutboxEntry.State.PENDING, 10).isEmpty());
	}

}
