package io.pglockwatch.alert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.pglockwatch.testsupport.FakePagerDuty;
import io.pglockwatch.testsupport.LabService;
import io.pglockwatch.testsupport.LockScenario;
import io.pglockwatch.testsupport.PostgresServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The ALTER TABLE incident on a real PostgreSQL, all the way to PagerDuty: the queue forms, a trigger arrives;
 * the holder ends, a resolve with the same dedup key arrives. Every request obeys the Events v2 rules.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.NONE)
class AlertEndToEndIntegrationTests {

	private static final String ROUTING_KEY = "R0UT1NGKEYe2e0000000000000000000";

	private static final PostgresServer server = PostgresServer.shared();

	private static final FakePagerDuty pagerDuty = FakePagerDuty.start(ROUTING_KEY);

	@DynamicPropertySource
	static void properties(DynamicPropertyRegistry registry) {
		LabService.register(registry, LabService.properties(server));
		registry.add("pglockwatch.detection.resolve-after", () -> "3s");
		registry.add("pglockwatch.alerts.pagerduty.routing-key", () -> ROUTING_KEY);
		registry.add("pglockwatch.alerts.pagerduty.url", pagerDuty::url);
		registry.add("pglockwatch.alerts.dashboard-url", () -> "https://pglockwatch.example");
	}

	@Autowired
	private MeterRegistry meters;

	@AfterAll
	static void stop() {
		pagerDuty.close();
	}

	@Test
	void alterTableIncidentTriggersAndResolvesWithTheSameDedupKey() throws Exception {
		try (Connection c = server.connect(PostgresServer.DEFAULT_DATABASE, "it-setup"); Statement s = c.createStatement()) {
			s.execute("DROP TABLE IF EXISTS e2e_users; CREATE TABLE e2e_users (id int PRIMARY KEY, name text)");
		}
		try (LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "e2e")) {
			LockScenario.DdlQueue staged = scenario.stageDdlQueue("e2e_users", "ADD COLUMN email text", 4);
			LockScenario.Session holder = staged.holder();
			LockScenario.Session ddl = staged.ddl();

			List<FakePagerDuty.Event> triggered = pagerDuty.awaitEvents(1, Duration.ofSeconds(10));
			FakePagerDuty.Event trigger = triggered.get(0);
			assertThat(trigger.action()).isEqualTo("trigger");
			assertThat(trigger.dedupKey()).startsWith("lab/ddl-lock-queue/" + ddl.pid() + "@");
			String summary = trigger.json().path("payload").path("summary").asText();
			assertThat(summary).startsWith("lab: ALTER TABLE public.e2e_users waits for AccessExclusiveLock")
				.contains("4 sessions queued", "root blocker pid " + holder.pid() + " idle in transaction",
						"(app " + holder.applicationName() + ")");
			assertThat(trigger.json().path("payload").path("component").asText()).isEqualTo("public.e2e_users");
			assertThat(trigger.json().path("payload").path("class").asText()).isEqualTo("ddl-lock-queue");
			// the alert says what the guard will do (here: nothing, it is off)
			assertThat(trigger.json().path("payload").path("custom_details").path("guard").path("mode").asText())
				.isEqualTo("off");
			assertThat(trigger.json().path("links").path(0).path("href").asText())
				.startsWith("https://pglockwatch.example/incidents/");

			holder.execute("ROLLBACK");
			List<FakePagerDuty.Event> events = pagerDuty.awaitEvents(2, Duration.ofSeconds(15));
			FakePagerDuty.Event resolve = events.get(1);
			assertThat(resolve.action()).isEqualTo("resolve");
			assertThat(resolve.dedupKey()).isEqualTo(trigger.dedupKey());
		}
		assertThat(pagerDuty.violations()).isEmpty();
		// every delivery request is timed as an HTTP client request (the timer is updated after the response is read)
		await().atMost(Duration.ofSeconds(10))
			.until(() -> this.meters.find("http.client.requests")
				.tag("method", "POST")
				.tag("client.name", "127.0.0.1")
				.timers()
				.stream()
				.mapToLong(Timer::count)
				.sum() >= pagerDuty.requests().size());
	}

}
