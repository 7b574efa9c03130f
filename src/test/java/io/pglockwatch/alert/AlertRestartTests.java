package io.pglockwatch.alert;

import static io.pglockwatch.alert.AlertHarness.PATIENCE;
import static io.pglockwatch.alert.AlertHarness.ROUTING_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.micrometer.core.instrument.MeterRegistry;
import io.pglockwatch.alert.AlertHarness.Incidents;
import io.pglockwatch.alert.AlertHarness.Settings;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.IncidentEvent.Type;
import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.detect.IncidentState;
import io.pglockwatch.incident.IncidentQuery;
import io.pglockwatch.incident.IncidentRecorder;
import io.pglockwatch.incident.IncidentStore;
import io.pglockwatch.testsupport.FakePagerDuty.Reply;
import io.pglockwatch.testsupport.FakePagerDuty;
import io.pglockwatch.testsupport.LabService;
import io.pglockwatch.testsupport.LockScenario;
import io.pglockwatch.testsupport.PostgresServer;
import org.junit.jupiter.api.Test;

import org.springframework.context.ConfigurableApplicationContext;

/**
 * Events still pending when the service stops are delivered by the next run on the same store, each once and
 * in order per incident: the outbox is the only memory the sender has.
 */
class AlertRestartTests {

	@Test
	void pendingEventsAreDeliveredOnceEachAfterARestart() {
		String database = Settings.fileDatabase();
		try (FakePagerDuty pagerDuty = FakePagerDuty.start(ROUTING_KEY)) {
			Settings settings = Settings.pagerDuty(pagerDuty.url()).withDatabase(database);
			pagerDuty.answerAllWith(() -> Reply.status(503));
			List<Incident> incidents = new ArrayList<>();
			try (AlertHarness first = AlertHarness.start(settings)) {
				for (int i = 0; i < 4; i++) {
					Incident opened = Incidents.ddlQueue("orders", 8000 + i);
					incidents.add(opened);
					first.publish(Type.OPENED, opened);
					Incident last = opened;
					if (i % 2 == 0) {
						last = Incidents.escalated(opened);
						first.publish(Type.ESCALATED, last);
					}
					if (i < 3) {
						first.publish(Type.RESOLVED, Incidents.resolved(last));
					}
				}
				// every incident's first event was tried and refused; the rest wait behind it
				await().atMost(PATIENCE).until(() -> incidents.stream()
					.allMatch((incident) -> first.rows(incident).get(0).attempts() >= 1));
				assertThat(first.outbox.inState(OutboxEntry.State.SENT, 100)).isEmpty();
			}
			int refusedBeforeRestart = pagerDuty.requests().size();
			assertThat(pagerDuty.events()).isEmpty();

			pagerDuty.answerAllWith(null);
			try (AlertHarness second = AlertHarness.start(settings)) {
				// 4 triggers, 2 critical triggers, 3 resolves, 2 critical resolves
				int rows = 4 + 2 + 3 + 2;
				List<FakePagerDuty.Event> events = pagerDuty.awaitEvents(rows, PATIENCE);
				await().atMost(PATIENCE).until(() -> second.allRows().stream()
					.allMatch((row) -> row.state() == OutboxEntry.State.SENT));
				List<OutboxEntry> stored = second.allRows();
				assertThat(stored).hasSize(rows);
				// each row once: (action, dedup key) names a row here
				Map<String, Integer> arrivals = new HashMap<>();
				events.forEach((e) -> arrivals.merge(e.action() + " " + e.dedupKey(), 1, Integer::sum));
				assertThat(arrivals).hasSize(rows).allSatisfy((row, count) -> assertThat(count).as(row).isEqualTo(1));
				for (Incident incident : incidents) {
					List<String> order = second.rows(incident).stream().map((r) -> r.action().label() + " " + r.dedupKey()).toList();
					List<String> arrived = events.stream()
						.filter((e) -> e.dedupKey().startsWith(incident.dedupKey()))
						.map((e) -> e.action() + " " + e.dedupKey())
						.toList();
					assertThat(arrived).as(incident.dedupKey()).isEqualTo(order);
				}
				assertThat(pagerDuty.requests()).hasSize(refusedBeforeRestart + rows);
				assertThat(pagerDuty.violations()).isEmpty();
				assertThat(second.counter(AlertChannel.PAGERDUTY, "trigger", "sent")).isEqualTo(6);
				assertThat(second.counter(AlertChannel.PAGERDUTY, "resolve", "sent")).isEqualTo(5);
			}
		}
	}

	/**
	 * A channel turned off between two runs keeps its pending events (visible, not dropped), and they must not
	 * hold up the channel that is still on, however many they are.
	 */
	@Test
	void pendingEventsOfAChannelTurnedOffDoNotHoldUpTheOther() {
		String database = Settings.fileDatabase();
		try (FakePagerDuty webhook = FakePagerDuty.startWebhook();
				FakePagerDuty pagerDuty = FakePagerDuty.start(ROUTING_KEY)) {
			Settings webhookOnly = Settings.webhook(webhook.url()).withDatabase(database);
			// more events than the sender reads in one pass
			int stranded = 60;
			try (AlertHarness first = AlertHarness.create(webhookOnly)) {
				for (int i = 0; i < stranded; i++) {
					first.publish(Type.OPENED, Incidents.blockingChain("billing", 9000 + i));
				}
			}

			Incident incident = Incidents.ddlQueue("orders", 9500);
			try (AlertHarness second = AlertHarness.start(Settings.pagerDuty(pagerDuty.url()).withDatabase(database))) {
				second.publish(Type.OPENED, incident);

				assertThat(pagerDuty.awaitEvents(1, PATIENCE)).singleElement()
					.satisfies((e) -> assertThat(e.dedupKey()).isEqualTo(incident.dedupKey()));
				// the fake counts an event when it answers; the sender marks it sent just after
				await().atMost(PATIENCE).until(() -> second.rows(incident).get(0).state() == OutboxEntry.State.SENT);
				assertThat(second.outbox.inState(OutboxEntry.State.PENDING, 100)).hasSize(stranded)
					.allSatisfy((row) -> assertThat(row.channel()).isEqualTo(AlertChannel.WEBHOOK));
			}
			assertThat(webhook.requests()).isEmpty();

			// the webhook is back on: what waited for it goes out
			try (AlertHarness third = AlertHarness.start(webhookOnly.withMaxEventsPerMinute(1000))) {
				assertThat(webhook.awaitEvents(stranded, PATIENCE)).allSatisfy((e) -> assertThat(e.action()).isEqualTo("opened"));
			}
			assertThat(webhook.violations()).isEmpty();
		}
	}

	/**
	 * The whole service: a real DDL queue on PostgreSQL opens an incident while PagerDuty is down; the service
	 * restarts on the same H2 file, PagerDuty is back; the trigger goes out once, and the resolve after it.
	 */
	@Test
	void theServiceDeliversAnIncidentsTriggerAfterARestartAndThenItsResolve() throws Exception {
		PostgresServer server = PostgresServer.shared();
		server.installFixtures(PostgresServer.DEFAULT_DATABASE);
		String database = Settings.fileDatabase();
		try (Connection setup = server.connect(PostgresServer.DEFAULT_DATABASE, "it-setup");
				Statement s = setup.createStatement()) {
			s.execute("DROP TABLE IF EXISTS alert_restart; CREATE TABLE alert_restart (id int PRIMARY KEY)");
		}
		try (FakePagerDuty pagerDuty = FakePagerDuty.start(ROUTING_KEY);
				LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "alertrestart")) {
			pagerDuty.answerAllWith(() -> Reply.status(503));
			LockScenario.DdlQueue staged = scenario.stageDdlQueue("alert_restart", "ADD COLUMN note text", 2);
			LockScenario.Session holder = staged.holder();
			LockScenario.Session ddl = staged.ddl();

			Incident incident;
			try (ConfigurableApplicationContext first = start(server, database, pagerDuty.url())) {
				await().atMost(PATIENCE).until(() -> ddlIncident(first, ddl.pid()) != null);
				incident = ddlIncident(first, ddl.pid());
				AlertOutbox outbox = first.getBean(AlertOutbox.class);
				// an attempt that got PagerDuty's answer: on a loaded machine the very first request of the JVM can
				// outlast the 500 ms timeout, and is then retried like any other
				await().atMost(PATIENCE).until(() -> !outbox.forIncident(incident.id()).isEmpty()
						&& Integer.valueOf(503).equals(outbox.forIncident(incident.id()).get(0).lastStatus()));
				assertThat(outbox.forIncident(incident.id())).singleElement().satisfies((row) -> {
					assertThat(row.action()).isEqualTo(AlertAction.TRIGGER);
					assertThat(row.state()).isEqualTo(OutboxEntry.State.PENDING);
					assertThat(row.lastStatus()).isEqualTo(503);
				});
			}
			assertThat(pagerDuty.events()).isEmpty();
			assertThat(pagerDuty.requests()).anySatisfy((r) -> assertThat(r.dedupKey()).isEqualTo(incident.dedupKey()));

			pagerDuty.answerAllWith(null);
			try (ConfigurableApplicationContext second = start(server, database, pagerDuty.url())) {
				// other incidents on the shared server (there should be none) would not disturb what is asserted
				await().atMost(PATIENCE).until(() -> !eventsFor(pagerDuty, incident).isEmpty());
				FakePagerDuty.Event trigger = eventsFor(pagerDuty, incident).get(0);
				assertThat(trigger.action()).isEqualTo("trigger");
				assertThat(trigger.json().get("payload").get("summary").stringValue())
					.startsWith("lab: ALTER TABLE public.alert_restart waits for AccessExclusiveLock");
				assertThat(trigger.json().get("payload").get("custom_details").get("graph_top").get("roots"))
					.isNotEmpty();

				holder.execute("ROLLBACK");
				await().atMost(PATIENCE).until(() -> ddlIncident(second, ddl.pid()).state() == IncidentState.RESOLVED);
				await().atMost(PATIENCE).until(() -> eventsFor(pagerDuty, incident).size() >= 2);
				assertThat(eventsFor(pagerDuty, incident)).extracting(FakePagerDuty.Event::action)
					.containsExactly("trigger", "resolve");
				// the restarted service continued the incident: no second trigger under a new id
				assertThat(ddlIncident(second, ddl.pid()).id()).isEqualTo(incident.id());
				AlertOutbox outbox = second.getBean(AlertOutbox.class);
				await().atMost(PATIENCE).until(() -> outbox.forIncident(incident.id()).stream()
					.allMatch((row) -> row.state() == OutboxEntry.State.SENT));
				assertThat(outbox.forIncident(incident.id())).extracting(OutboxEntry::action)
					.containsExactly(AlertAction.TRIGGER, AlertAction.RESOLVE);
				MeterRegistry meters = second.getBean(MeterRegistry.class);
				long triggers = pagerDuty.events().stream().filter((e) -> e.action().equals("trigger")).count();
				assertThat(meters.get("pglockwatch.alert.events").tag("action", "trigger").tag("outcome", "sent")
					.counter().count()).isEqualTo(triggers);
				assertThat(pagerDuty.violations()).isEmpty();
			}
		}
	}

	private static List<FakePagerDuty.Event> eventsFor(FakePagerDuty pagerDuty, Incident incident) {
		return pagerDuty.events().stream().filter((e) -> incident.dedupKey().equals(e.dedupKey())).toList();
	}

	private static ConfigurableApplicationContext start(PostgresServer server, String datasourceUrl, String pagerDutyUrl) {
		Map<String, String> properties = LabService.properties(server);
		properties.put("spring.datasource.url", datasourceUrl);
		properties.put("pglockwatch.detection.ddl-queue.min-queued", "2");
		// no escalation within the test, however slow the machine
		properties.put("pglockwatch.detection.ddl-queue.critical-wait", "10m");
		properties.put("pglockwatch.detection.resolve-after", "2s");
		properties.put("pglockwatch.alerts.pagerduty.routing-key", ROUTING_KEY);
		properties.put("pglockwatch.alerts.pagerduty.url", pagerDutyUrl);
		properties.put("pglockwatch.alerts.dashboard-url", AlertHarness.DASHBOARD_URL);
		properties.put("pglockwatch.alerts.delivery.request-timeout", "500ms");
		properties.put("pglockwatch.alerts.delivery.initial-backoff", "50ms");
		properties.put("pglockwatch.alerts.delivery.max-backoff", "500ms");
		properties.put("pglockwatch.alerts.delivery.rate-limited-backoff", "300ms");
		return LabService.start(properties);
	}

	private static Incident ddlIncident(ConfigurableApplicationContext context, int ddlPid) {
		context.getBean(IncidentRecorder.class).flush(Duration.ofSeconds(5));
		return context.getBean(IncidentStore.class)
			.find(new IncidentQuery(null, "lab", IncidentKind.DDL_LOCK_QUEUE, 100))
			.stream()
			.filter((i) -> i.ddl() != null && i.ddl().session().pid() == ddlPid)
			.findFirst()
			.orElse(null);
	}

}
