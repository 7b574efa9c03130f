package io.pglockwatch.alert;

import static io.pglockwatch.alert.AlertHarness.PATIENCE;
import static io.pglockwatch.alert.AlertHarness.ROUTING_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.pglockwatch.alert.AlertHarness.Incidents;
import io.pglockwatch.alert.AlertHarness.Settings;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.IncidentEvent.Type;
import io.pglockwatch.incident.PeakGraph;
import io.pglockwatch.testsupport.FakePagerDuty;
import io.pglockwatch.testsupport.FakePagerDuty.Reply;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The PagerDuty channel end to end below Spring: incident events into the outbox, the sender's delivery loop
 * against a local Events API v2 that checks every event as PagerDuty would, on an H2 store migrated like the
 * service's. Backoffs are short (50 ms initial, 500 ms max, 300 ms after a 429 without Retry-After, 500 ms
 * request timeout) so retries happen within a test.
 */
class PagerDutyDeliveryTests {

	/** Slack for measured waits: server arrival times against the sender's clock, rounding. */
	private static final Duration SLACK = Duration.ofMillis(30);

	@AutoClose
	private FakePagerDuty pagerDuty;

	@AutoClose
	private AlertHarness harness;


	private AlertHarness start(Settings settings) {
		this.harness = AlertHarness.start(settings);
		return this.harness;
	}

	private AlertHarness startAgainstFake() {
		this.pagerDuty = FakePagerDuty.start(ROUTING_KEY);
		return start(Settings.pagerDuty(this.pagerDuty.url()));
	}

	private OutboxEntry awaitRow(Incident incident, int index, OutboxEntry.State state) {
		await().atMost(PATIENCE).pollInterval(Duration.ofMillis(20))
			.until(() -> this.harness.rows(incident).size() > index
					&& this.harness.rows(incident).get(index).state() == state);
		return this.harness.rows(incident).get(index);
	}

	private void awaitAllSent(int rows) {
		await().atMost(PATIENCE).pollInterval(Duration.ofMillis(50)).until(() -> {
			List<OutboxEntry> all = this.harness.allRows();
			return all.size() == rows && all.stream().allMatch((r) -> r.state() == OutboxEntry.State.SENT);
		});
	}

	@Test
	void openedIncidentTriggersAnAlertWithWhatThePersonPagedNeeds() {
		AlertHarness alerts = startAgainstFake();
		Incident incident = Incidents.ddlQueue("orders", 4242);
		alerts.incidents.save(incident);
		alerts.incidents.savePeakGraph(incident.id(), alerts.json.writeValueAsString(bigGraph()));

		alerts.publish(Type.OPENED, incident);

		FakePagerDuty.Event event = this.pagerDuty.awaitEvents(1, PATIENCE).get(0);
		JsonNode body = event.json();
		assertThat(body.get("routing_key").stringValue()).isEqualTo(ROUTING_KEY);
		assertThat(body.get("event_action").stringValue()).isEqualTo("trigger");
		assertThat(body.get("dedup_key").stringValue()).isEqualTo(incident.dedupKey())
			.startsWith("orders/ddl-lock-queue/4242@");
		JsonNode payload = body.get("payload");
		assertThat(payload.get("summary").stringValue()).isEqualTo("orders: ALTER TABLE public.users waits for "
				+ "AccessExclusiveLock 42s; 37 sessions queued; root blocker pid 4100 idle in transaction 12m (app reporting)");
		assertThat(payload.get("source").stringValue()).isEqualTo("orders");
		assertThat(payload.get("severity").stringValue()).isEqualTo("warning");
		assertThat(Instant.parse(payload.get("timestamp").stringValue())).isEqualTo(incident.openedAt());
		assertThat(payload.get("component").stringValue()).isEqualTo("public.users");
		assertThat(payload.get("group").stringValue()).isEqualTo("app");
		assertThat(payload.get("class").stringValue()).isEqualTo("ddl-lock-queue");
		// the dashboard URL is configured with a trailing slash: no double slash in the link
		String link = "https://lockwatch.example.com/incidents/" + incident.id();
		assertThat(body.get("links")).hasSize(1);
		assertThat(body.get("links").get(0).get("href").stringValue()).isEqualTo(link);
		assertThat(body.get("links").get(0).get("text").stringValue()).contains(incident.id());
		assertThat(body.get("client").stringValue()).isEqualTo("pg-lockwatch");
		assertThat(body.get("client_url").stringValue()).isEqualTo(link);

		JsonNode details = payload.get("custom_details");
		assertThat(details.get("incident_id").stringValue()).isEqualTo(incident.id());
		assertThat(details.get("state").stringValue()).isEqualTo("open");
		assertThat(details.get("queue_depth").asInt()).isEqualTo(37);
		assertThat(details.get("peak_queue_depth").asInt()).isEqualTo(37);
		assertThat(details.get("max_wait_seconds").asDouble()).isEqualTo(45.0);
		assertThat(details.get("ddl").get("pid").asInt()).isEqualTo(4242);
		assertThat(details.get("ddl").get("mode").stringValue()).isEqualTo("AccessExclusiveLock");
		assertThat(details.get("ddl").get("relation").stringValue()).isEqualTo("public.users");
		assertThat(details.get("ddl").get("wait_seconds").asDouble()).isEqualTo(42.0);
		assertThat(details.get("ddl").get("statement").stringValue()).startsWith("ALTER TABLE public.users");
		assertThat(details.get("root_blocker").get("pid").asInt()).isEqualTo(4100);
		assertThat(details.get("root_blocker").get("state").stringValue()).isEqualTo("idle in transaction");
		assertThat(details.get("root_blocker").get("application").stringValue()).isEqualTo("reporting");
		assertThat(details.get("root_blocker").get("idle_seconds").asLong()).isEqualTo(720);
		assertThat(details.get("what_to_do").stringValue()).contains("SELECT pg_cancel_backend(4242)")
			.contains("SELECT pg_terminate_backend(4100)")
			.contains("lock_timeout");
		// only the top of the peak graph: 5 of 7 roots, the first 10 of 15 queued sessions
		JsonNode top = details.get("graph_top");
		assertThat(top.get("session_count").asInt()).isEqualTo(23);
		assertThat(top.get("roots")).hasSize(AlertPayloads.GRAPH_ROOTS);
		assertThat(top.get("ddl_queue").get("pid").asInt()).isEqualTo(4242);
		assertThat(top.get("ddl_queue").get("queueDepth").asInt()).isEqualTo(15);
		assertThat(top.get("ddl_queue").get("first_queued")).hasSize(AlertPayloads.GRAPH_QUEUED);

		assertThat(this.pagerDuty.violations()).isEmpty();
		OutboxEntry row = awaitRow(incident, 0, OutboxEntry.State.SENT);
		assertThat(row.action()).isEqualTo(AlertAction.TRIGGER);
		assertThat(row.attempts()).isEqualTo(1);
		assertThat(row.lastStatus()).isEqualTo(202);
		assertThat(row.lastError()).isNull();
		assertThat(row.sentAt()).isNotNull();
		// the key is added when sending, never stored
		assertThat(alerts.json.readTree(row.payload()).has("routing_key")).isFalse();
		assertThat(alerts.counter(AlertChannel.PAGERDUTY, "trigger", "sent")).isEqualTo(1);
		assertThat(this.pagerDuty.requests()).hasSize(1);
	}

	@Test
	void eventsGoOutAsPlainHttp11WithoutAnUpgradeToH2c() {
		AlertHarness alerts = startAgainstFake();
		Incident incident = Incidents.ddlQueue("orders", 4250);

		alerts.publish(Type.OPENED, incident);
		alerts.publish(Type.RESOLVED, Incidents.resolved(incident));

		this.pagerDuty.awaitEvents(2, PATIENCE);
		// the JDK client's default (HTTP/2) asks plain-http receivers to switch protocols, which some refuse
		assertThat(this.pagerDuty.requests()).hasSize(2).allSatisfy((r) -> {
			assertThat(r.protocol()).isEqualTo("HTTP/1.1");
			assertThat(r.header("Upgrade")).isEmpty();
			assertThat(r.header("HTTP2-Settings")).isEmpty();
			assertThat(r.header("Connection")).noneSatisfy((v) -> assertThat(v).containsIgnoringCase("upgrade"));
		});
	}

	@Test
	void anIncidentWithoutADdlHasNoComponent() {
		AlertHarness alerts = startAgainstFake();
		Incident incident = Incidents.blockingChain("billing", 5150);

		alerts.publish(Type.OPENED, incident);

		JsonNode payload = this.pagerDuty.awaitEvents(1, PATIENCE).get(0).json().get("payload");
		assertThat(payload.get("summary").stringValue()).startsWith("billing: pid 5150 active 5m (app batch) blocks 6 sessions");
		assertThat(payload.has("component")).isFalse();
		assertThat(payload.get("class").stringValue()).isEqualTo("blocking-chain");
		assertThat(payload.get("custom_details").has("ddl")).isFalse();
		assertThat(payload.get("custom_details").get("what_to_do").stringValue())
			.contains("SELECT pg_terminate_backend(5150)");
		assertThat(this.pagerDuty.violations()).isEmpty();
	}

	@Test
	void escalationIsASecondCriticalAlertAndResolvingClosesBothInOrder() {
		AlertHarness alerts = startAgainstFake();
		// the first trigger is refused twice, so the escalation and the resolve are queued behind it meanwhile
		this.pagerDuty.enqueue(Reply.status(500), Reply.status(502));
		Incident opened = Incidents.ddlQueue("orders", 4243);
		Incident escalated = Incidents.escalated(opened);
		Incident resolved = Incidents.resolved(escalated);
		alerts.publish(Type.OPENED, opened);
		alerts.publish(Type.ESCALATED, escalated);
		alerts.publish(Type.RESOLVED, resolved);

		List<FakePagerDuty.Event> events = this.pagerDuty.awaitEvents(4, PATIENCE);
		String key = opened.dedupKey();
		String critical = key + AlertEnqueuer.CRITICAL_SUFFIX;
		assertThat(events).extracting((e) -> e.action() + " " + e.dedupKey())
			.containsExactly("trigger " + key, "trigger " + critical, "resolve " + key, "resolve " + critical);
		JsonNode warning = events.get(0).json().get("payload");
		JsonNode escalation = events.get(1).json().get("payload");
		assertThat(warning.get("severity").stringValue()).isEqualTo("warning");
		assertThat(escalation.get("severity").stringValue()).isEqualTo("critical");
		assertThat(escalation.get("summary").stringValue()).isEqualTo("CRITICAL " + warning.get("summary").stringValue());
		assertThat(Instant.parse(escalation.get("timestamp").stringValue())).isEqualTo(escalated.escalatedAt());
		assertThat(escalation.get("custom_details").get("state").stringValue()).isEqualTo("escalated");
		assertThat(events.get(1).json().get("links").get(0).get("href").stringValue())
			.endsWith("/incidents/" + opened.id());
		// a resolve is only the key: PagerDuty needs nothing else
		assertThat(events.get(2).json().has("payload")).isFalse();

		List<FakePagerDuty.Request> requests = this.pagerDuty.requests();
		assertThat(requests).extracting((r) -> r.action() + " " + r.dedupKey() + " " + r.reply().status())
			.containsExactly("trigger " + key + " 500", "trigger " + key + " 502", "trigger " + key + " 202",
					"trigger " + critical + " 202", "resolve " + key + " 202", "resolve " + critical + " 202");
		assertThat(this.pagerDuty.violations()).isEmpty();
		awaitAllSent(4);
		assertThat(alerts.rows(opened)).extracting(OutboxEntry::attempts).containsExactly(3, 1, 1, 1);
	}

	@Test
	void aServerErrorIsRetriedWithBackoffUntilAccepted() {
		AlertHarness alerts = startAgainstFake();
		this.pagerDuty.enqueue(Reply.status(500), Reply.status(500), Reply.status(500));
		Incident incident = Incidents.ddlQueue("orders", 4244);

		alerts.publish(Type.OPENED, incident);

		OutboxEntry row = awaitRow(incident, 0, OutboxEntry.State.SENT);
		assertThat(row.attempts()).isEqualTo(4);
		assertThat(row.lastStatus()).isEqualTo(202);
		assertThat(row.lastError()).isNull();
		// the row is sent and nothing else is pending: no further attempt can come
		List<FakePagerDuty.Request> requests = this.pagerDuty.requests();
		assertThat(requests).hasSize(4).allSatisfy((r) -> assertThat(r.dedupKey()).isEqualTo(incident.dedupKey()));
		assertThat(requests).extracting((r) -> r.reply().status()).containsExactly(500, 500, 500, 202);
		assertThat(this.pagerDuty.events()).hasSize(1);
		// backoff: at least half of 50 ms x 2^n before attempt n + 2 (jitter takes up to half away)
		for (int n = 0; n < 3; n++) {
			Duration least = AlertHarness.INITIAL_BACKOFF.multipliedBy(1L << n).dividedBy(2);
			assertThat(requests.get(n).until(requests.get(n + 1))).as("wait before attempt %d", n + 2)
				.isGreaterThanOrEqualTo(least.minus(SLACK.dividedBy(3)));
		}
		assertThat(alerts.counter(AlertChannel.PAGERDUTY, "trigger", "retried")).isEqualTo(3);
		assertThat(alerts.counter(AlertChannel.PAGERDUTY, "trigger", "sent")).isEqualTo(1);
		assertThat(alerts.counter(AlertChannel.PAGERDUTY, "trigger", "rejected")).isZero();
		assertThat(alerts.logLines()).filteredOn((line) -> line.contains("failed (attempt")).hasSize(3);
	}

	@Test
	void tooManyRequestsWaitsForRetryAfter() {
		AlertHarness alerts = startAgainstFake();
		this.pagerDuty.enqueue(Reply.tooManyRequests(1));
		Incident incident = Incidents.ddlQueue("orders", 4245);

		alerts.publish(Type.OPENED, incident);

		OutboxEntry row = awaitRow(incident, 0, OutboxEntry.State.SENT);
		assertThat(row.attempts()).isEqualTo(2);
		List<FakePagerDuty.Request> requests = this.pagerDuty.requests();
		assertThat(requests).extracting((r) -> r.reply().status()).containsExactly(429, 202);
		// Retry-After: 1 wins over the 300 ms rate-limited-backoff, capped at max-backoff (500 ms here) so a
		// careless Retry-After cannot hold a resolve for a day
		Duration waited = requests.get(0).until(requests.get(1));
		System.out.printf("429 with Retry-After 1: next attempt after %d ms%n", waited.toMillis());
		Duration expected = Duration.ofSeconds(1).compareTo(AlertHarness.MAX_BACKOFF) > 0 ? AlertHarness.MAX_BACKOFF
				: Duration.ofSeconds(1);
		assertThat(waited).isGreaterThanOrEqualTo(expected.minus(SLACK.dividedBy(3)));
		assertThat(waited).isGreaterThan(Duration.ofMillis(300)); // more than rate-limited-backoff: the header won
		assertThat(alerts.counter(AlertChannel.PAGERDUTY, "trigger", "retried")).isEqualTo(1);
		assertThat(alerts.counter(AlertChannel.PAGERDUTY, "trigger", "sent")).isEqualTo(1);
	}

	@Test
	void tooManyRequestsWithoutRetryAfterWaitsTheRateLimitedBackoff() {
		AlertHarness alerts = startAgainstFake();
		this.pagerDuty.enqueue(Reply.tooManyRequests(null),
				// an HTTP date is not understood by the sender: it falls back to the configured wait as well
				Reply.tooManyRequests(null).withHeader("Retry-After", "Wed, 21 Oct 2026 07:28:00 GMT"));
		Incident incident = Incidents.ddlQueue("orders", 4246);

		alerts.publish(Type.OPENED, incident);

		OutboxEntry row = awaitRow(incident, 0, OutboxEntry.State.SENT);
		assertThat(row.attempts()).isEqualTo(3);
		List<FakePagerDuty.Request> requests = this.pagerDuty.requests();
		assertThat(requests).extracting((r) -> r.reply().status()).containsExactly(429, 429, 202);
		// not the exponential backoff (25 to 50 ms, then 50 to 100 ms)
		for (int n = 0; n < 2; n++) {
			assertThat(requests.get(n).until(requests.get(n + 1))).as("wait after 429 number %d", n + 1)
				.isGreaterThanOrEqualTo(AlertHarness.RATE_LIMITED_BACKOFF.minus(SLACK));
		}
	}

	@Test
	void aReadTimeoutIsRetriedAndThenAccepted() {
		AlertHarness alerts = startAgainstFake();
		// far beyond the retry, however loaded the machine; the test does not wait for it
		Duration slow = Duration.ofSeconds(10);
		// PagerDuty takes the event but answers only long after the client's 500 ms timeout
		this.pagerDuty.enqueue(Reply.status(202).after(slow));
		Incident incident = Incidents.ddlQueue("orders", 4247);

		alerts.publish(Type.OPENED, incident);

		OutboxEntry row = awaitRow(incident, 0, OutboxEntry.State.SENT);
		assertThat(row.attempts()).isEqualTo(2);
		List<FakePagerDuty.Request> requests = this.pagerDuty.requests();
		assertThat(requests).hasSize(2);
		// the client gave up and retried before the slow answer came
		assertThat(requests.get(0).until(requests.get(1))).isLessThan(slow)
			.isGreaterThanOrEqualTo(AlertHarness.REQUEST_TIMEOUT.minus(SLACK));
		assertThat(alerts.logLines()).anySatisfy((line) -> assertThat(line).contains("failed (attempt 1)")
			.containsIgnoringCase("timeout"));
		assertThat(alerts.counter(AlertChannel.PAGERDUTY, "trigger", "retried")).isEqualTo(1);
		assertThat(alerts.counter(AlertChannel.PAGERDUTY, "trigger", "sent")).isEqualTo(1);
		assertThat(this.pagerDuty.violations()).isEmpty();
	}

	@Test
	void aResponseThatStallsAfterItsHeadersIsATimeoutToo() {
		AlertHarness alerts = startAgainstFake();
		Duration stall = Duration.ofSeconds(10);
		this.pagerDuty.enqueue(Reply.status(503).stalled(stall));
		Incident incident = Incidents.ddlQueue("orders", 4253);

		alerts.publish(Type.OPENED, incident);

		// a read that hangs mid-body must not hang the only sender thread
		OutboxEntry row = awaitRow(incident, 0, OutboxEntry.State.SENT);
		assertThat(row.attempts()).isEqualTo(2);
		List<FakePagerDuty.Request> requests = this.pagerDuty.requests();
		assertThat(requests).hasSize(2);
		assertThat(requests.get(0).until(requests.get(1))).isLessThan(stall);
	}

	@Test
	void anEscalationSummaryStaysWithinPagerDutysLimit() {
		// far longer than any real relation name (and than the store takes), so the summary has to be cut
		Incident opened = Incidents.ddlQueue("orders", 4254, "public.t_" + "x".repeat(1100));
		AlertPayloads payloads = new AlertPayloads(JsonMapper.builder().build(),
				AlertHarness.DASHBOARD_URL);

		String warning = payloads.trigger(opened, opened.dedupKey(), false, null, Map.of()).payload().summary();
		String critical = payloads.trigger(Incidents.escalated(opened), opened.dedupKey() + AlertEnqueuer.CRITICAL_SUFFIX,
				true, null, Map.of()).payload().summary();

		assertThat(warning).hasSize(FakePagerDuty.MAX_SUMMARY).startsWith("orders: ALTER TABLE public.t_xxx").endsWith("…");
		assertThat(critical).startsWith("CRITICAL orders: ALTER TABLE public.t_xxx")
			.hasSizeLessThanOrEqualTo(FakePagerDuty.MAX_SUMMARY);
	}

	@Test
	void aRefusedConnectionIsRetriedAndStaysPendingAndVisible() {
		AlertHarness alerts = start(Settings.pagerDuty(FakePagerDuty.refusedUrl()));
		Incident incident = Incidents.ddlQueue("orders", 4248);

		alerts.publish(Type.OPENED, incident);

		await().atMost(PATIENCE).until(() -> alerts.rows(incident).get(0).attempts() >= 2);
		List<OutboxEntry> pending = alerts.outbox.inState(OutboxEntry.State.PENDING, 10);
		assertThat(pending).singleElement().satisfies((row) -> {
			assertThat(row.incidentId()).isEqualTo(incident.id());
			assertThat(row.lastStatus()).isNull();
			// the root cause of a refused connection in the JDK client: "ClosedChannelException" (see the report)
			assertThat(row.lastError()).isNotBlank();
			assertThat(row.sentAt()).isNull();
		});
		// the gauges are refreshed after each pass of the sender
		await().atMost(PATIENCE).untilAsserted(() -> {
			assertThat(alerts.gauge("pglockwatch.alert.outbox.pending", AlertChannel.PAGERDUTY)).isEqualTo(1);
			assertThat(alerts.gauge("pglockwatch.alert.outbox.oldest.age", AlertChannel.PAGERDUTY)).isPositive();
		});
		assertThat(alerts.counter(AlertChannel.PAGERDUTY, "trigger", "retried")).isGreaterThanOrEqualTo(2);
		assertThat(alerts.counter(AlertChannel.PAGERDUTY, "trigger", "sent")).isZero();
		assertThat(alerts.outbox.inState(OutboxEntry.State.FAILED, 10)).isEmpty();
	}

	@Test
	void aBadRequestIsNotRetriedAndALaterResolveStillGoesOut() {
		AlertHarness alerts = startAgainstFake();
		String refusal = "{\"status\":\"invalid event\",\"message\":\"Event object is invalid\",\"errors\":"
				+ "[\"'payload.summary' is missing or blank\"]}";
		this.pagerDuty.enqueue(Reply.json(400, refusal));
		Incident incident = Incidents.ddlQueue("orders", 4249);

		alerts.publish(Type.OPENED, incident);

		OutboxEntry failed = awaitRow(incident, 0, OutboxEntry.State.FAILED);
		assertThat(failed.attempts()).isEqualTo(1);
		assertThat(failed.lastStatus()).isEqualTo(400);
		assertThat(failed.lastError()).isEqualTo("HTTP 400: " + refusal);
		assertThat(alerts.counter(AlertChannel.PAGERDUTY, "trigger", "rejected")).isEqualTo(1);
		assertThat(alerts.outbox.inState(OutboxEntry.State.FAILED, 10)).extracting(OutboxEntry::id)
			.containsExactly(failed.id());
		assertThat(alerts.logLines()).anySatisfy((line) -> assertThat(line).startsWith("ERROR")
			.contains("rejected by pagerduty, not retried")
			.contains("'payload.summary' is missing or blank"));

		// a failed event does not block the incident's later events
		alerts.publish(Type.RESOLVED, Incidents.resolved(incident));

		FakePagerDuty.Event resolve = this.pagerDuty.awaitEvents(1, PATIENCE).get(0);
		assertThat(resolve.action()).isEqualTo("resolve");
		assertThat(resolve.dedupKey()).isEqualTo(incident.dedupKey());
		awaitRow(incident, 1, OutboxEntry.State.SENT);
		// several passes of the sender went by since the 400, and it tried the trigger only once
		assertThat(this.pagerDuty.requests()).extracting((r) -> r.action() + " " + r.reply().status())
			.containsExactly("trigger 400", "resolve 202");
		assertThat(alerts.rows(incident).get(0).state()).isEqualTo(OutboxEntry.State.FAILED);
		assertThat(alerts.counter(AlertChannel.PAGERDUTY, "trigger", "retried")).isZero();
		assertThat(alerts.counter(AlertChannel.PAGERDUTY, "resolve", "sent")).isEqualTo(1);
	}

	@Test
	void theRoutingKeyIsNeverStoredLoggedOrMeasured() {
		AlertHarness alerts = startAgainstFake();
		// answers that quote the request, routing key included, as some gateways and error pages do
		this.pagerDuty.enqueue(Reply.echo(500), Reply.echo(429).withHeader("Retry-After", "0"));
		Incident retried = Incidents.ddlQueue("orders", 4250);
		alerts.publish(Type.OPENED, retried);
		awaitRow(retried, 0, OutboxEntry.State.SENT);

		this.pagerDuty.enqueue(Reply.echo(400));
		Incident refused = Incidents.ddlQueue("orders", 4251);
		alerts.publish(Type.OPENED, refused);
		OutboxEntry failed = awaitRow(refused, 0, OutboxEntry.State.FAILED);
		assertThat(failed.lastError()).contains("HTTP 400").contains("\"routing_key\":\"******\"");

		this.pagerDuty.answerAllWith(() -> Reply.echo(503));
		Incident pending = Incidents.ddlQueue("orders", 4252);
		alerts.publish(Type.OPENED, pending);
		await().atMost(PATIENCE).until(() -> alerts.rows(pending).get(0).lastError() != null);
		assertThat(alerts.rows(pending).get(0).lastError()).contains("HTTP 503").contains("******");

		// the key did go out, in every request, so the masking above was put to the test
		assertThat(this.pagerDuty.requests()).hasSizeGreaterThanOrEqualTo(5)
			.allSatisfy((r) -> assertThat(r.body()).contains(ROUTING_KEY));
		assertThat(this.pagerDuty.violations()).isEmpty();
		List<OutboxEntry> rows = alerts.allRows();
		assertThat(rows).hasSize(3).allSatisfy((row) -> {
			assertThat(row.payload()).doesNotContain(ROUTING_KEY);
			assertThat(String.valueOf(row.lastError())).doesNotContain(ROUTING_KEY);
		});
		List<String> lines = alerts.logLines();
		assertThat(lines).anySatisfy((line) -> assertThat(line).contains("******"));
		assertThat(lines).noneSatisfy((line) -> assertThat(line).contains(ROUTING_KEY));
		for (Meter meter : alerts.meters.getMeters()) {
			assertThat(meter.getId().getName()).doesNotContain(ROUTING_KEY);
			for (Tag tag : meter.getId().getTags()) {
				assertThat(tag.getValue()).doesNotContain(ROUTING_KEY);
			}
		}
		assertThat(alerts.alerts.toString()).doesNotContain(ROUTING_KEY);
	}

	@Test
	void perDedupKeyTriggersArriveBeforeResolvesWithManyIncidentsInterleaved() {
		this.pagerDuty = FakePagerDuty.start(ROUTING_KEY);
		AlertHarness alerts = start(Settings.pagerDuty(this.pagerDuty.url()).withMaxEventsPerMinute(10_000));
		// a third of all attempts fail, so retries keep reordering what is due
		Random failures = new Random(42);
		this.pagerDuty.answerAllWith(() -> failures.nextInt(3) == 0 ? Reply.status(503) : Reply.status(202));
		List<Incident> incidents = IntStream.range(0, 12)
			.mapToObj((i) -> (i % 2 == 0) ? Incidents.ddlQueue("orders", 6000 + i) : Incidents.blockingChain("billing", 6000 + i))
			.toList();
		// each incident's events in lifecycle order, the incidents' events shuffled together
		Map<String, List<Runnable>> lifecycles = new LinkedHashMap<>();
		for (int i = 0; i < incidents.size(); i++) {
			Incident opened = incidents.get(i);
			List<Runnable> steps = new ArrayList<>();
			steps.add(() -> alerts.publish(Type.OPENED, opened));
			Incident last = opened;
			if (i % 3 == 0) {
				Incident escalated = Incidents.escalated(opened);
				steps.add(() -> alerts.publish(Type.ESCALATED, escalated));
				last = escalated;
			}
			Incident resolved = Incidents.resolved(last);
			steps.add(() -> alerts.publish(Type.RESOLVED, resolved));
			lifecycles.put(opened.id(), steps);
		}
		Random shuffle = new Random(7);
		Map<String, Integer> next = new HashMap<>();
		List<String> open = new ArrayList<>(lifecycles.keySet());
		while (!open.isEmpty()) {
			String id = open.get(shuffle.nextInt(open.size()));
			int step = next.merge(id, 1, Integer::sum) - 1;
			lifecycles.get(id).get(step).run();
			if (step == lifecycles.get(id).size() - 1) {
				open.remove(id);
			}
		}
		// 12 triggers and 12 resolves, and for the 4 escalated incidents a critical trigger and resolve each
		int rows = 12 * 2 + 4 * 2;
		awaitAllSent(rows);

		List<FakePagerDuty.Event> events = this.pagerDuty.events();
		assertThat(this.pagerDuty.violations()).isEmpty();
		// 503 means not taken: every row is taken exactly once
		assertThat(events).hasSize(rows);
		assertThat(this.pagerDuty.requests()).filteredOn((r) -> r.reply().status() == 503).isNotEmpty();
		Map<String, List<String>> actionsByKey = new LinkedHashMap<>();
		for (FakePagerDuty.Event event : events) {
			actionsByKey.computeIfAbsent(event.dedupKey(), (k) -> new ArrayList<>()).add(event.action());
		}
		assertThat(actionsByKey).hasSize(16).allSatisfy((key, actions) -> assertThat(actions).as(key)
			.containsExactly("trigger", "resolve"));
		// and each incident's events arrive in the order they were stored
		for (Incident incident : incidents) {
			List<String> stored = alerts.rows(incident).stream().map((r) -> r.action().label() + " " + r.dedupKey()).toList();
			List<String> arrived = events.stream()
				.filter((e) -> e.dedupKey().startsWith(incident.dedupKey()))
				.map((e) -> e.action() + " " + e.dedupKey())
				.toList();
			assertThat(arrived).as(incident.dedupKey()).isEqualTo(stored);
		}
	}

	@Test
	void aBurstBeyondTheRateLimitIsHeldNotDropped() {
		this.pagerDuty = FakePagerDuty.start(ROUTING_KEY);
		AlertHarness alerts = start(Settings.pagerDuty(this.pagerDuty.url()).withMaxEventsPerMinute(3));
		List<Incident> burst = IntStream.range(0, 6).mapToObj((i) -> Incidents.ddlQueue("orders", 7000 + i)).toList();
		Instant started = Instant.now();

		burst.forEach((incident) -> alerts.publish(Type.OPENED, incident));

		List<FakePagerDuty.Event> first = this.pagerDuty.awaitEvents(3, PATIENCE);
		System.out.printf("3 of a burst of 6 delivered in %d ms%n", Duration.between(started, Instant.now()).toMillis());
		assertThat(first).extracting(FakePagerDuty.Event::dedupKey)
			.containsExactly(burst.get(0).dedupKey(), burst.get(1).dedupKey(), burst.get(2).dedupKey());
		// held for the rest of the minute: still pending, never attempted; a second is five passes of the sender
		await().during(Duration.ofSeconds(1)).atMost(PATIENCE).until(() -> this.pagerDuty.requests().size() == 3);
		await().atMost(PATIENCE).until(() -> alerts.outbox.inState(OutboxEntry.State.SENT, 10).size() == 3);
		assertThat(alerts.outbox.inState(OutboxEntry.State.PENDING, 10)).hasSize(3)
			.allSatisfy((row) -> assertThat(row.attempts()).isZero());
		await().atMost(PATIENCE)
			.until(() -> alerts.gauge("pglockwatch.alert.outbox.pending", AlertChannel.PAGERDUTY) == 3);

		// a minute later the window has room again
		alerts.clock.shift(Duration.ofSeconds(61));

		List<FakePagerDuty.Event> all = this.pagerDuty.awaitEvents(6, PATIENCE);
		assertThat(all).extracting(FakePagerDuty.Event::dedupKey)
			.containsExactlyElementsOf(burst.stream().map(Incident::dedupKey).toList());
		assertThat(this.pagerDuty.requests()).hasSize(6);
		awaitAllSent(6);
		assertThat(this.pagerDuty.violations()).isEmpty();
	}

	/** A peak graph larger than an alert carries: 7 roots, a DDL queue of 15. */
	private static PeakGraph bigGraph() {
		List<PeakGraph.Root> roots = IntStream.range(0, 7)
			.mapToObj((i) -> new PeakGraph.Root(4100 + i, null, "idle in transaction", "reporting", "analyst", 900.0 - i,
					15 - i, false))
			.toList();
		List<PeakGraph.Queued> queued = IntStream.range(0, 15)
			.mapToObj((i) -> new PeakGraph.Queued(5000 + i, i + 1, 1))
			.toList();
		PeakGraph.Queue queue = new PeakGraph.Queue(4242, "public.users", "AccessExclusiveLock", 42.0, 15,
				List.of(4100), queued);
		return new PeakGraph(PeakGraph.SCHEMA_VERSION, "orders", Instant.parse("2026-11-23T12:00:00Z"), 23, 22, List.of(), List.of(), roots,
				List.of(queue), List.of());
	}

}
