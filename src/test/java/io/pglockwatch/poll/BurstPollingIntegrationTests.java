package io.pglockwatch.poll;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.micrometer.core.instrument.MeterRegistry;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.detect.IncidentState;
import io.pglockwatch.incident.IncidentQuery;
import io.pglockwatch.incident.IncidentRecorder;
import io.pglockwatch.incident.IncidentStore;
import io.pglockwatch.testsupport.LabService;
import io.pglockwatch.testsupport.LockScenario;
import io.pglockwatch.testsupport.PostgresServer;
import org.junit.jupiter.api.Test;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Burst polling on a real PostgreSQL with the default poll settings (interval 1 s, burst 250 ms, min-wait 2 s): an
 * ALTER TABLE queue opens its incident within min-wait + one burst interval (+ 100 ms for the poll itself) of the
 * DDL's own {@code pg_locks.waitstart}, round after round; a quiet target next to it keeps its one poll a second;
 * and the burst ends when the wait does.
 */
class BurstPollingIntegrationTests {

	private static final Duration MIN_WAIT = Duration.ofSeconds(2);

	private static final Duration BURST = Duration.ofMillis(250);

	private static final Duration POLL_ITSELF = Duration.ofMillis(100);

	private static final int ROUNDS = 4;

	private final PostgresServer server = PostgresServer.shared();

	@Test
	void aDdlQueueOpensItsIncidentWithinMinWaitAndABurstWhileAQuietTargetKeepsItsInterval() throws Exception {
		Map<String, String> properties = LabService.properties(this.server);
		properties.put("pglockwatch.poll.interval", "1s");
		properties.put("pglockwatch.poll.statement-timeout", "1s");
		properties.put("pglockwatch.detection.resolve-after", "1s");
		// a server of its own: pg_locks shows the waits of every database of a server
		try (PostgresServer quiet = PostgresServer.startNew(PostgresServer.DEFAULT_MAJOR)) {
			properties.put("pglockwatch.targets[1].name", "quiet");
			properties.put("pglockwatch.targets[1].url", quiet.jdbcUrl(PostgresServer.DEFAULT_DATABASE));
			properties.put("pglockwatch.targets[1].username", quiet.superuser());
			properties.put("pglockwatch.targets[1].password", quiet.password());
			watch(properties);
		}
	}

	private void watch(Map<String, String> properties) throws Exception {
		try (ConfigurableApplicationContext app = LabService.start(properties)) {
			MeterRegistry meters = app.getBean(MeterRegistry.class);
			IncidentStore store = app.getBean(IncidentStore.class);
			IncidentRecorder recorder = app.getBean(IncidentRecorder.class);
			await().atMost(Duration.ofSeconds(20)).until(() -> polls(meters, "lab") > 2 && polls(meters, "quiet") > 2);
			assertThat(bursting(meters, "lab")).isZero();

			List<Duration> lags = new ArrayList<>();
			for (int round = 1; round <= ROUNDS; round++) {
				try (LockScenario scenario = new LockScenario(this.server, PostgresServer.DEFAULT_DATABASE,
						"burst" + round)) {
					LockScenario.DdlQueue queue = scenario.stageDdlQueue("users", "ADD COLUMN burst" + round + " int", 4);
					Instant waitStart = waitStart(queue.ddl().pid());
					await().atMost(Duration.ofSeconds(5)).until(() -> bursting(meters, "lab") == 1);
					if (round == 1) {
						// ten seconds of a burst on lab: the quiet target keeps its one poll a second
						double labBefore = polls(meters, "lab");
						double quietBefore = polls(meters, "quiet");
						Thread.sleep(10_000);
						double labPolls = polls(meters, "lab") - labBefore;
						double quietPolls = polls(meters, "quiet") - quietBefore;
						System.out.printf("10 s of a burst: lab %.0f polls, quiet %.0f polls%n", labPolls, quietPolls);
						assertThat(quietPolls).isBetween(9.0, 11.0);
						assertThat(labPolls).isBetween(30.0, 41.0);
						assertThat(bursting(meters, "quiet")).isZero();
					}
					Incident incident = await().atMost(Duration.ofSeconds(10))
						.until(() -> open(store, recorder), (found) -> found != null);
					Duration lag = Duration.between(waitStart, incident.openedAt());
					lags.add(lag);
					assertThat(lag).as("round %d: opened %s after the DDL's waitstart", round, lag)
						.isBetween(MIN_WAIT, MIN_WAIT.plus(BURST).plus(POLL_ITSELF));

					queue.holder().execute("ROLLBACK");
					scenario.awaitNoWaiters(Duration.ofSeconds(10));
					// the wait is over: so is the burst, and lab is back to one poll a second
					await().atMost(Duration.ofSeconds(3)).until(() -> bursting(meters, "lab") == 0);
					double before = polls(meters, "lab");
					Thread.sleep(3_000);
					assertThat(polls(meters, "lab") - before).isBetween(2.0, 4.0);
					await().atMost(Duration.ofSeconds(10)).until(() -> open(store, recorder) == null);
					queue.ddl().execute("ALTER TABLE users DROP COLUMN IF EXISTS burst" + round);
				}
			}
			System.out.println("DDL waitstart -> incident opened, " + ROUNDS + " rounds: " + lags);
		}
	}

	/** The open ddl-lock-queue incident of lab as stored, or null. */
	private static Incident open(IncidentStore store, IncidentRecorder recorder) {
		recorder.flush(Duration.ofSeconds(5));
		return store.find(new IncidentQuery(null, "lab", IncidentKind.DDL_LOCK_QUEUE, 10))
			.stream()
			.filter((incident) -> incident.state() != IncidentState.RESOLVED)
			.findFirst()
			.orElse(null);
	}

	/** The server's own start of the DDL's wait. */
	private Instant waitStart(int pid) throws Exception {
		try (Connection connection = this.server.connect(PostgresServer.DEFAULT_DATABASE, "burst-test");
				PreparedStatement statement = connection.prepareStatement(
						"SELECT waitstart FROM pg_locks WHERE pid = ? AND NOT granted AND waitstart IS NOT NULL")) {
			statement.setInt(1, pid);
			return await().atMost(Duration.ofSeconds(5)).until(() -> {
				try (ResultSet rs = statement.executeQuery()) {
					return rs.next() ? rs.getTimestamp(1).toInstant() : null;
				}
			}, (at) -> at != null);
		}
	}

	private static double polls(MeterRegistry meters, String target) {
		return meters.get("pglockwatch.poll.duration").tag("target", target).timer().count();
	}

	private static double bursting(MeterRegistry meters, String target) {
		return meters.get("pglockwatch.poll.bursting").tag("target", target).gauge().value();
	}

}
