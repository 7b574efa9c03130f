package io.pglockwatch.alert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;

import io.pglockwatch.testsupport.FakePagerDuty;
import io.pglockwatch.testsupport.FakePagerDuty.Reply;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * The fake PagerDuty itself: "no violations" in the delivery tests only means something if the fake does
 * flag what PagerDuty refuses.
 */
class PagerDutyFakeTests {

	private static final String KEY = "R0UTINGk3ySECRETe1b9c04d2f7a6358";

	private static final String VALID_TRIGGER = """
			{"routing_key":"%s","event_action":"trigger","dedup_key":"orders/x","payload":{"summary":"s",
			"source":"orders","severity":"warning","timestamp":"2026-11-23T12:00:00.123456Z","component":"public.users",
			"group":"app","class":"ddl-lock-queue","custom_details":{"a":1}},"links":[{"href":"https://x/1","text":"t"}]}
			""".formatted(KEY);

	@AutoClose
	private final FakePagerDuty pagerDuty = FakePagerDuty.start(KEY);

	private final HttpClient http = HttpClient.newHttpClient();


	private HttpResponse<String> post(String body) throws Exception {
		return post(body, "application/json");
	}

	private HttpResponse<String> post(String body, String contentType) throws Exception {
		HttpRequest request = HttpRequest.newBuilder(URI.create(this.pagerDuty.url()))
			.header("Content-Type", contentType)
			.POST(HttpRequest.BodyPublishers.ofString(body))
			.build();
		return this.http.send(request, HttpResponse.BodyHandlers.ofString());
	}

	@Test
	void aValidTriggerAndResolveAreAccepted() throws Exception {
		HttpResponse<String> response = post(VALID_TRIGGER);
		assertThat(response.statusCode()).isEqualTo(202);
		assertThat(response.body()).contains("\"status\":\"success\"").contains("\"dedup_key\":\"orders/x\"");
		assertThat(post("{\"routing_key\":\"" + KEY + "\",\"event_action\":\"resolve\",\"dedup_key\":\"orders/x\"}")
			.statusCode()).isEqualTo(202);
		assertThat(this.pagerDuty.violations()).isEmpty();
		assertThat(this.pagerDuty.events()).extracting(FakePagerDuty.Event::action).containsExactly("trigger", "resolve");
		assertThat(this.pagerDuty.url()).startsWith("http://127.0.0.1:").endsWith("/v2/enqueue");
	}

	@Test
	void whatPagerDutyRefusesIsFlaggedAndAnsweredWith400() throws Exception {
		String[][] cases = {
				{ VALID_TRIGGER.replace("\"routing_key\":\"" + KEY + "\",", ""), "routing_key missing" },
				{ VALID_TRIGGER.replace(KEY, "another-key"), "routing_key is not the configured one" },
				{ VALID_TRIGGER.replace("\"trigger\"", "\"open\""), "event_action open" },
				{ "{\"routing_key\":\"" + KEY + "\",\"event_action\":\"resolve\"}", "dedup_key missing for resolve" },
				{ VALID_TRIGGER.replace("orders/x", "k".repeat(256)), "dedup_key of 256 characters" },
				{ VALID_TRIGGER.replace("\"summary\":\"s\"", "\"summary\":\"" + "s".repeat(1025) + "\""),
						"payload.summary of 1025 characters" },
				{ VALID_TRIGGER.replace("\"summary\":\"s\",", ""), "payload.summary missing" },
				{ VALID_TRIGGER.replace("\"source\":\"orders\",", ""), "payload.source missing" },
				{ VALID_TRIGGER.replace("\"warning\"", "\"high\""), "payload.severity high" },
				{ VALID_TRIGGER.replace("2026-11-23T12:00:00.123456Z", "yesterday"), "payload.timestamp" },
				{ VALID_TRIGGER.replace("{\"a\":1}", "{\"a\":\"" + "x".repeat(FakePagerDuty.MAX_BODY_BYTES) + "\"}"),
						"body of" },
				{ VALID_TRIGGER.replace("\"href\":\"https://x/1\",", ""), "links[] without href" },
				{ "not json", "body is not JSON" } };
		for (String[] c : cases) {
			HttpResponse<String> response = post(c[0]);
			assertThat(response.statusCode()).as(c[1]).isEqualTo(400);
			assertThat(response.body()).as(c[1]).contains("invalid event");
			assertThat(this.pagerDuty.requests().get(this.pagerDuty.requests().size() - 1).violations()).as(c[1])
				.anySatisfy((v) -> assertThat(v).contains(c[1]));
		}
		assertThat(post(VALID_TRIGGER, "text/plain").statusCode()).isEqualTo(400);
		assertThat(this.pagerDuty.violations()).hasSizeGreaterThanOrEqualTo(cases.length + 1)
			.noneSatisfy((v) -> assertThat(v).contains(KEY));
		assertThat(this.pagerDuty.events()).isEmpty();
	}

	@Test
	void scriptedAnswersComeInOrderThenTheDefault() throws Exception {
		this.pagerDuty.enqueue(Reply.status(500), Reply.tooManyRequests(7), Reply.json(400, "{\"x\":1}"));
		assertThat(post(VALID_TRIGGER).statusCode()).isEqualTo(500);
		HttpResponse<String> limited = post(VALID_TRIGGER);
		assertThat(limited.statusCode()).isEqualTo(429);
		assertThat(limited.headers().firstValue("Retry-After")).hasValue("7");
		assertThat(post(VALID_TRIGGER).body()).isEqualTo("{\"x\":1}");
		assertThat(post(VALID_TRIGGER).statusCode()).isEqualTo(202);
		assertThat(this.pagerDuty.requests()).extracting((r) -> r.reply().status()).containsExactly(500, 429, 400, 202);
		assertThat(this.pagerDuty.events()).hasSize(1)
			.singleElement()
			.satisfies((e) -> assertThat(e.requestIndex()).isEqualTo(3));
	}

	@Test
	void aDelayedAnswerOutlastsAClientTimeoutAndARefusedUrlRefuses() {
		this.pagerDuty.enqueue(Reply.status(202).after(Duration.ofSeconds(10)));
		HttpRequest slow = HttpRequest.newBuilder(URI.create(this.pagerDuty.url()))
			.header("Content-Type", "application/json")
			.timeout(Duration.ofMillis(300))
			.POST(HttpRequest.BodyPublishers.ofString(VALID_TRIGGER))
			.build();
		assertThatExceptionOfType(HttpTimeoutException.class)
			.isThrownBy(() -> this.http.send(slow, HttpResponse.BodyHandlers.ofString()));
		assertThat(this.pagerDuty.requests()).hasSize(1);

		HttpRequest refused = HttpRequest.newBuilder(URI.create(FakePagerDuty.refusedUrl()))
			.POST(HttpRequest.BodyPublishers.ofString(VALID_TRIGGER))
			.build();
		assertThatExceptionOfType(IOException.class)
			.isThrownBy(() -> this.http.send(refused, HttpResponse.BodyHandlers.ofString()))
			.isInstanceOf(ConnectException.class);
	}

	@Test
	void theWebhookVariantChecksTheWebhookShape() throws Exception {
		try (FakePagerDuty webhook = FakePagerDuty.startWebhook()) {
			HttpRequest ok = HttpRequest.newBuilder(URI.create(webhook.url()))
				.header("Content-Type", "application/json")
				.POST(HttpRequest.BodyPublishers.ofString("{\"event\":\"opened\",\"incident\":{\"id\":\"i1\"}}"))
				.build();
			assertThat(this.http.send(ok, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
			HttpRequest bad = HttpRequest.newBuilder(URI.create(webhook.url()))
				.header("Content-Type", "application/json")
				.POST(HttpRequest.BodyPublishers.ofString("{\"event\":\"triggered\"}"))
				.build();
			assertThat(this.http.send(bad, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(400);
			assertThat(webhook.violations()).hasSize(2);
			assertThat(webhook.events()).singleElement().satisfies((e) -> assertThat(e.action()).isEqualTo("opened"));
		}
	}

}
