package io.pglockwatch;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import io.pglockwatch.poll.PollListener;
import io.pglockwatch.poll.TargetState;
import io.pglockwatch.poll.TargetStatus;
import io.pglockwatch.testsupport.LabService;
import io.pglockwatch.testsupport.LockScenario;
import io.pglockwatch.testsupport.PostgresServer;
import io.pglockwatch.testsupport.SilentServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The whole service against a real PostgreSQL it may stop and restart, plus a target that accepts
 * connections and never answers. Polls every 500 ms to keep the test short.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PgLockwatchApplicationIntegrationTests {

	private static final Duration INTERVAL = LabService.POLL;

	private static final PostgresServer server = PostgresServer.startNew(PostgresServer.DEFAULT_MAJOR);

	private static final SilentServer silent = silentServer();

	private static final Map<String, List<Instant>> pollStarts = new ConcurrentHashMap<>();

	@LocalServerPort
	int port;

	@Autowired
	TargetStatus status;

	private final HttpClient http = HttpClient.newHttpClient();

	private final ObjectMapper json = new ObjectMapper();

	@DynamicPropertySource
	static void targets(DynamicPropertyRegistry registry) {
		LabService.register(registry, LabService.properties(server));
		registry.add("pglockwatch.targets[1].name", () -> "hung");
		registry.add("pglockwatch.targets[1].url", silent::jdbcUrl);
	}

	@TestConfiguration
	static class RecordPolls {

		@Bean
		PollListener pollRecorder() {
			return (outcome) -> pollStarts.computeIfAbsent(outcome.target(), (k) -> new CopyOnWriteArrayList<>())
				.add(outcome.state().lastPollAt());
		}

	}

	@AfterAll
	static void stopServers() throws Exception {
		silent.close();
		server.close();
	}

	private static SilentServer silentServer() {
		try {
			return new SilentServer();
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
	}

	private HttpResponse<String> get(String path) throws Exception {
		return this.http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + this.port + path)).build(),
				HttpResponse.BodyHandlers.ofString());
	}

	private JsonNode getJson(String path) throws Exception {
		HttpResponse<String> response = get(path);
		assertThat(response.statusCode()).as(path + ": " + response.body()).isEqualTo(200);
		return this.json.readTree(response.body());
	}

	@Test
	@Order(1)
	void aTargetThatNeverAnswersFailsWithTimeoutAndNeverDelaysTheOther() throws Exception {
		await().atMost(Duration.ofSeconds(10)).until(() -> this.status.get("lab").isUp());
		await().atMost(Duration.ofSeconds(10)).until(() -> this.status.get("hung").failure() != null);
		TargetState hung = this.status.get("hung");
		assertThat(hung.failure().label()).isEqualTo("timeout");
		assertThat(silent.acceptedCount()).isPositive();

		int before = pollStarts.getOrDefault("lab", List.of()).size();
		Thread.sleep(5_000);
		List<Instant> starts = new ArrayList<>(pollStarts.get("lab"));
		List<Instant> window = starts.subList(before, starts.size());
		assertThat(window).hasSizeGreaterThanOrEqualTo(9);
		for (int i = 1; i < window.size(); i++) {
			Duration gap = Duration.between(window.get(i - 1), window.get(i));
			assertThat(gap).as("gap between polls of lab").isLessThan(INTERVAL.plusMillis(250));
		}
		// one poll of the hung target at a time: accepted connections grow by at most one per connect timeout
		assertThat(silent.acceptedCount()).isLessThanOrEqualTo(4);
	}

	@Test
	@Order(2)
	void targetsApiSaysWhatIsWrong() throws Exception {
		JsonNode targets = getJson("/api/v1/targets");
		assertThat(targets).hasSize(2);
		JsonNode lab = targets.get(0);
		assertThat(lab.get("name").asText()).isEqualTo("lab");
		assertThat(lab.get("up").asBoolean()).isTrue();
		assertThat(lab.get("serverVersion").asText()).startsWith("18.");
		assertThat(lab.get("lockWaiters").asInt()).isZero();
		assertThat(lab.get("longestWaitSeconds").isNumber()).isTrue();
		assertThat(lab.get("longestWaitSeconds").asDouble()).isZero();
		JsonNode hung = targets.get(1);
		assertThat(hung.get("up").asBoolean()).isFalse();
		assertThat(hung.get("failureReason").asText()).isEqualTo("timeout");
		assertThat(hung.get("error").asText()).contains("deadline");
		assertThat(hung.get("lockWaiters").isNull()).isTrue();
		assertThat(hung.get("longestWaitSeconds").isNull()).isTrue();
	}

	@Test
	@Order(3)
	void errorsAreProblemDetails() throws Exception {
		HttpResponse<String> unknown = get("/api/v1/targets/nope/graph");
		assertThat(unknown.statusCode()).isEqualTo(404);
		assertThat(unknown.headers().firstValue("Content-Type")).hasValueSatisfying(
				(type) -> assertThat(type).startsWith("application/problem+json"));
		assertThat(this.json.readTree(unknown.body()).get("detail").asText()).contains("unknown target 'nope'");
		HttpResponse<String> down = get("/api/v1/targets/hung/graph");
		assertThat(down.statusCode()).isEqualTo(503);
		assertThat(this.json.readTree(down.body()).get("detail").asText()).contains("hung", "timeout");
		// a browser gets the HTML error page, with the reason and a way back
		HttpResponse<String> page = this.http.send(HttpRequest
			.newBuilder(URI.create("http://localhost:" + this.port + "/?target=nope"))
			.header("Accept", "text/html")
			.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(page.statusCode()).isEqualTo(404);
		assertThat(page.headers().firstValue("Content-Type")).hasValueSatisfying(
				(type) -> assertThat(type).startsWith("text/html"));
		assertThat(page.body()).contains("<h1>404 Not Found</h1>", "unknown target &#39;nope&#39;",
				"Back to the live view");
	}

	@Test
	@Order(4)
	void metricsHaveEverySeriesAndNaNForATargetThatIsDown() throws Exception {
		await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
			String body = get("/actuator/prometheus").body();
			assertThat(body).contains("pglockwatch_target_up{target=\"lab\"} 1.0",
					"pglockwatch_target_up{target=\"hung\"} 0.0",
					"pglockwatch_lock_waiters{mode=\"AccessExclusiveLock\",target=\"hung\"} NaN",
					"pglockwatch_lock_waiters{mode=\"AccessExclusiveLock\",target=\"lab\"} 0.0",
					"pglockwatch_ddl_queue_depth{target=\"hung\"} NaN", "pglockwatch_ddl_queue_depth{target=\"lab\"} 0.0",
					"pglockwatch_poll_failures_total{reason=\"timeout\",target=\"hung\"}",
					"pglockwatch_poll_failures_total{reason=\"connect\",target=\"lab\"} 0.0",
					"pglockwatch_poll_duration_seconds_count{target=\"lab\"}",
					"pglockwatch_last_successful_poll_timestamp_seconds{target=\"hung\"} NaN",
					"pglockwatch_blocked_session_seconds_total{target=\"lab\"}", "pglockwatch_lock_wait_max_seconds",
					"pglockwatch_root_blockers", "pglockwatch_ddl_queue_wait_seconds",
					"pglockwatch_poll_overruns_total{target=\"lab\"} 0.0", "pglockwatch_poll_start_delay_seconds_count ",
					"pglockwatch_poll_start_delay_seconds_bucket{le=\"0.2\"}");
			// the silent target's polls outlive the interval: ticks meanwhile are skipped, and counted
			assertThat(value(body, "pglockwatch_poll_overruns_total{target=\"hung\"}")).isPositive();
			double started = value(body, "pglockwatch_poll_start_delay_seconds_count");
			assertThat(started).isPositive();
			// measured from each tick's due time on the fixed-rate schedule: late by milliseconds, not by intervals
			assertThat(value(body, "pglockwatch_poll_start_delay_seconds_sum") / started)
				.isLessThan(INTERVAL.toMillis() / 1000.0 / 2);
			for (String line : body.lines().filter((l) -> l.startsWith("# HELP pglockwatch_")).toList()) {
				assertThat(line.split(" ", 4)).hasSize(4);
			}
		});
	}

	private static double value(String prometheus, String series) {
		return prometheus.lines()
			.filter((line) -> line.startsWith(series + " "))
			.mapToDouble((line) -> Double.parseDouble(line.substring(series.length() + 1).trim()))
			.findFirst()
			.orElseThrow(() -> new AssertionError("no series " + series));
	}

	@Test
	@Order(5)
	void alterTableIncidentThroughApiAndMetrics() throws Exception {
		try (LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "app")) {
			LockScenario.DdlQueue staged = scenario.stageDdlQueue("users",
					"ADD COLUMN email_verified boolean NOT NULL DEFAULT false", 5);
			LockScenario.Session holder = staged.holder();
			LockScenario.Session ddl = staged.ddl();

			await().atMost(Duration.ofSeconds(5)).ignoreExceptions().untilAsserted(() -> {
				JsonNode graph = getJson("/api/v1/targets/lab/graph");
				JsonNode queue = graph.get("ddlQueues").get(0);
				assertThat(queue.get("pid").asInt()).isEqualTo(ddl.pid());
				assertThat(queue.get("relation").asText()).isEqualTo("public.users");
				assertThat(queue.get("mode").asText()).isEqualTo("AccessExclusiveLock");
				assertThat(queue.get("queueDepth").asInt()).isEqualTo(5);
				assertThat(queue.get("rootBlockerPids").get(0).asInt()).isEqualTo(holder.pid());
				assertThat(graph.get("edges")).hasSize(6);
				assertThat(graph.get("roots").get(0).get("state").asText()).isEqualTo("idle in transaction");
				// the ALTER TABLE has waited longest, since before the readers queued behind it; read after the graph,
				// the target is of the same poll or a later one
				JsonNode lab = getJson("/api/v1/targets/lab");
				assertThat(lab.get("lockWaiters").asInt()).isEqualTo(6);
				assertThat(lab.get("longestWaitSeconds").asDouble()).isPositive()
					.isGreaterThanOrEqualTo(queue.get("waitSeconds").asDouble() - 0.001);
				String metrics = get("/actuator/prometheus").body();
				assertThat(metrics).contains("pglockwatch_ddl_queue_depth{target=\"lab\"} 5.0",
						"pglockwatch_lock_waiters{mode=\"AccessShareLock\",target=\"lab\"} 5.0",
						"pglockwatch_lock_waiters{mode=\"AccessExclusiveLock\",target=\"lab\"} 1.0",
						"pglockwatch_root_blockers{target=\"lab\"} 1.0");
			});
		}
		await().atMost(Duration.ofSeconds(5))
			.untilAsserted(() -> assertThat(get("/actuator/prometheus").body())
				.contains("pglockwatch_ddl_queue_depth{target=\"lab\"} 0.0"));
	}

	@Test
	@Order(6)
	void targetStoppedIsDownWithinTwoPollsAndUpAgainAfterRestart() throws Exception {
		server.stop();
		Instant stopped = Instant.now();
		await().atMost(INTERVAL.multipliedBy(2).plusMillis(400))
			.pollInterval(Duration.ofMillis(50))
			.untilAsserted(() -> assertThat(get("/actuator/prometheus").body())
				.contains("pglockwatch_target_up{target=\"lab\"} 0.0"));
		assertThat(Duration.between(stopped, Instant.now())).isLessThan(INTERVAL.multipliedBy(2).plusMillis(400));
		JsonNode lab = getJson("/api/v1/targets/lab");
		assertThat(lab.get("up").asBoolean()).isFalse();
		assertThat(lab.get("failureReason").asText()).isEqualTo("connect");
		assertThat(lab.get("error").asText()).isNotBlank();
		assertThat(get("/actuator/health").statusCode()).isEqualTo(200);

		server.start();
		await().atMost(Duration.ofSeconds(15)).until(() -> this.status.get("lab").isUp());
		assertThat(get("/actuator/prometheus").body()).contains("pglockwatch_target_up{target=\"lab\"} 1.0");
	}

}
