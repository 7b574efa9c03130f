package io.pglockwatch.incident;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.micrometer.core.instrument.MeterRegistry;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.poll.TargetStatus;
import io.pglockwatch.testsupport.FakePagerDuty;
import io.pglockwatch.testsupport.LabService;
import io.pglockwatch.testsupport.LockScenario;
import io.pglockwatch.testsupport.PostgresServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A PostgreSQL incident store that stops taking connections under the running service, while an ALTER TABLE queue
 * forms on the watched target: the page goes out anyway, polling, metrics, the live API and the dashboard go on, the
 * store health component and the metrics say the store fails, and when the store takes connections again the
 * incident and the accepted trigger are written with the same dedup key and nothing is sent twice.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ExtendWith(OutputCaptureExtension.class)
class StoreFailureIntegrationTests {

	private static final String ROUTING_KEY = "R0UT1NGKEYst0refa110000000000000";

	private static final String STORE = "lockwatch_store_failure";

	private static final PostgresServer server = PostgresServer.shared();

	private static final FakePagerDuty pagerDuty = FakePagerDuty.start(ROUTING_KEY);

	@DynamicPropertySource
	static void properties(DynamicPropertyRegistry registry) {
		server.createDatabase(STORE);
		LabService.register(registry, LabService.properties(server));
		registry.add("spring.datasource.url", () -> server.jdbcUrl(STORE));
		registry.add("spring.datasource.username", server::superuser);
		registry.add("spring.datasource.password", server::password);
		registry.add("pglockwatch.detection.resolve-after", () -> "2s");
		registry.add("pglockwatch.alerts.pagerduty.routing-key", () -> ROUTING_KEY);
		registry.add("pglockwatch.alerts.pagerduty.url", pagerDuty::url);
		registry.add("pglockwatch.alerts.dashboard-url", () -> "https://pglockwatch.example");
		registry.add("pglockwatch.security.login-required", () -> "false");
	}

	@Autowired
	private IncidentRecorder recorder;

	@Autowired
	private IncidentStore store;

	@Autowired
	private JdbcClient storeJdbc;

	@Autowired
	private StoreHealthIndicator storeHealth;

	@Autowired
	private TargetStatus targets;

	@Autowired
	private MeterRegistry meters;

	@LocalServerPort
	private int port;

	private final HttpClient http = HttpClient.newHttpClient();

	@AfterAll
	static void stop() {
		pagerDuty.close();
		allowConnections(true);
	}

	@Test
	void aPageNeverWaitsForTheStoreAndNothingIsLostOrSentTwice(CapturedOutput output) throws Exception {
		try (Connection c = server.connect(PostgresServer.DEFAULT_DATABASE, "it-setup"); Statement s = c.createStatement()) {
			s.execute("DROP TABLE IF EXISTS storefail_users; CREATE TABLE storefail_users (id int PRIMARY KEY)");
		}
		// the store works: the service has written to it (migrations) and reads it
		assertThat(this.store.countActive()).isZero();
		allowConnections(false);
		try (LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "storefail")) {
			Instant staged = Instant.now();
			LockScenario.DdlQueue queue = scenario.stageDdlQueue("storefail_users", "ADD COLUMN email text", 4);

			// the trigger goes out although the incident cannot be written
			FakePagerDuty.Event trigger = pagerDuty.awaitEvents(1, Duration.ofSeconds(15)).get(0);
			assertThat(trigger.action()).isEqualTo("trigger");
			assertThat(trigger.dedupKey()).startsWith("lab/ddl-lock-queue/" + queue.ddl().pid() + "@");
			// min-wait (2 s) + at most a poll, the wait in memory (1 s) and a sender tick
			assertThat(Duration.between(staged, Instant.now())).isLessThan(Duration.ofSeconds(8));

			// the store's failure is known, shown and counted; polls and the live graph go on
			await().atMost(Duration.ofSeconds(15)).until(() -> this.recorder.storeFailure() != null);
			assertThat(gauge("pglockwatch.store.writes.failing")).isEqualTo(1.0);
			assertThat(gauge("pglockwatch.store.writes.waiting")).isPositive();
			var health = this.storeHealth.health();
			assertThat(health.getStatus()).isEqualTo(Status.DOWN);
			assertThat(health.getDetails()).containsKeys("writesFailingSince", "writeError");
			assertThat((Integer) health.getDetails().get("writesWaiting")).isPositive();
			Instant lastPoll = this.targets.get("lab").lastPollAt();
			await().atMost(Duration.ofSeconds(5)).until(() -> this.targets.get("lab").lastPollAt().isAfter(lastPoll));
			assertThat(this.targets.get("lab").freshGraph().ddlQueues()).isNotEmpty();

			HttpResponse<String> targets = get("/api/v1/targets");
			assertThat(targets.statusCode()).isEqualTo(200);
			assertThat(targets.body()).contains("\"lab\"");
			HttpResponse<String> graph = get("/api/v1/targets/lab/graph");
			assertThat(graph.statusCode()).isEqualTo(200);
			assertThat(graph.body()).contains(String.valueOf(queue.ddl().pid()));
			HttpResponse<String> dashboard = get("/");
			assertThat(dashboard.statusCode()).isEqualTo(200);
			assertThat(dashboard.body()).contains("The incident history is not shown");
			HttpResponse<String> history = get("/api/v1/incidents");
			assertThat(history.statusCode()).isEqualTo(503);
			assertThat(history.body()).contains("incident store cannot be read").doesNotContainIgnoringCase("select");
			HttpResponse<String> page = get("/incidents");
			assertThat(page.statusCode()).isEqualTo(503);
			assertThat(page.body()).contains("incident store cannot be read").doesNotContainIgnoringCase("select");

			// the store is back: every waiting write is done, the trigger recorded as accepted, not sent again
			allowConnections(true);
			await().atMost(Duration.ofSeconds(30))
				.until(() -> this.recorder.storeFailure() == null && gauge("pglockwatch.store.writes.waiting") == 0);
			Incident stored = this.store.find(IncidentQuery.latest(10))
				.stream()
				.filter((i) -> i.dedupKey().equals(trigger.dedupKey()))
				.findFirst()
				.orElseThrow();
			assertThat(this.store.timeline(stored.id())).isNotEmpty();
			assertThat(this.store.peakGraph(stored.id())).isPresent();
			await().atMost(Duration.ofSeconds(10)).until(() -> outbox(stored.id()).size() == 1);
			assertThat(outbox(stored.id()).get(0)).containsEntry("action", "trigger")
				.containsEntry("state", "sent")
				.containsEntry("dedup_key", trigger.dedupKey());
			Thread.sleep(1500); // a pass or seven of both senders
			assertThat(pagerDuty.events()).hasSize(1);

			// the incident goes on in the store as usual
			queue.holder().execute("ROLLBACK");
			List<FakePagerDuty.Event> events = pagerDuty.awaitEvents(2, Duration.ofSeconds(20));
			assertThat(events.get(1).action()).isEqualTo("resolve");
			assertThat(events.get(1).dedupKey()).isEqualTo(trigger.dedupKey());
			this.recorder.flush(Duration.ofSeconds(10));
			assertThat(this.store.findById(stored.id()).orElseThrow().resolvedAt()).isNotNull();
			await().atMost(Duration.ofSeconds(10))
				.until(() -> outbox(stored.id()).stream().allMatch((row) -> "sent".equals(row.get("state"))));
		}
		assertThat(pagerDuty.events()).hasSize(2);
		assertThat(pagerDuty.violations()).isEmpty();
		// said once when it started failing and once when it worked again, not once a write or a retry
		assertThat(count(output.getAll(), "Store writes are failing")).isEqualTo(1);
		assertThat(count(output.getAll(), "Store writes work again")).isEqualTo(1);
		assertThat(count(output.getAll(), "Alert outbox not readable")).isEqualTo(1);
	}

	private static void allowConnections(boolean allow) {
		server.allowConnections(STORE, allow);
	}

	private List<Map<String, Object>> outbox(String incidentId) {
		return this.storeJdbc.sql("SELECT action, state, dedup_key FROM alert_outbox WHERE incident_id = :id ORDER BY id")
			.param("id", incidentId)
			.query()
			.listOfRows()
			.stream()
			.map((row) -> {
				Map<String, Object> lower = new java.util.LinkedHashMap<>();
				row.forEach((k, v) -> lower.put(k.toLowerCase(Locale.ROOT), v));
				return lower;
			})
			.toList();
	}

	private double gauge(String name) {
		return this.meters.get(name).gauge().value();
	}

	private HttpResponse<String> get(String path) throws Exception {
		return this.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + path)).build(),
				HttpResponse.BodyHandlers.ofString());
	}

	private static int count(String text, String what) {
		Matcher matcher = Pattern.compile(Pattern.quote(what)).matcher(text);
		int count = 0;
		while (matcher.find()) {
			count++;
		}
		return count;
	}

}
