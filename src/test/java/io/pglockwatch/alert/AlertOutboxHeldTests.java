package io.pglockwatch.alert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import io.pglockwatch.alert.AlertHarness.Incidents;
import io.pglockwatch.alert.AlertHarness.Settings;
import io.pglockwatch.alert.OutboxEntry.State;
import io.pglockwatch.cluster.Fence;
import io.pglockwatch.detect.Incident;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import org.springframework.dao.DataAccessResourceFailureException;

/**
 * Alert events that wait in memory because the store has not taken them (the outbox's half that never reads the
 * store), on a real H2 store: the order per incident and channel holds for what is sent from memory, each event is
 * stored later with what became of it, and what waits is bounded.
 */
class AlertOutboxHeldTests {

	@AutoClose
	private final AlertHarness harness = AlertHarness.create(Settings.pagerDuty("http://127.0.0.1:9/v2/enqueue"));

	private final AlertOutbox outbox = this.harness.outbox;


	private Fence fence(String target) {
		return this.harness.fence(target);
	}

	private static Instant later() {
		return Instant.now().plusSeconds(3600);
	}

	@Test
	void eventsOfAnIncidentNotYetStoredGoOutInOrderAndAreStoredWithTheirOutcome() {
		Incident incident = Incidents.ddlQueue("orders", 4242);
		// the incident itself is not in the store yet: its events cannot be (foreign key), so they wait in memory
		this.outbox.add(incident.id(), incident.target(), AlertAction.TRIGGER, incident.dedupKey(), "{\"event_action\":\"trigger\"}",
				Instant.now(), fence(incident.target()));
		this.outbox.add(incident.id(), incident.target(), AlertAction.RESOLVE, incident.dedupKey(), "{\"event_action\":\"resolve\"}",
				Instant.now(), fence(incident.target()));
		this.harness.writes.flush(Duration.ofSeconds(10));
		assertThat(this.outbox.heldCount()).isEqualTo(2);

		OutboxEntry trigger = this.outbox.nextHeld(AlertChannel.PAGERDUTY, Instant.now(), later());
		assertThat(trigger.action()).isEqualTo(AlertAction.TRIGGER);
		assertThat(trigger.id()).isNegative();
		// the resolve never overtakes its trigger while that is being sent
		assertThat(this.outbox.nextHeld(AlertChannel.PAGERDUTY, Instant.now(), later())).isNull();
		this.outbox.markSent(trigger.id(), 202, Instant.now(), fence("orders"));
		OutboxEntry resolve = this.outbox.nextHeld(AlertChannel.PAGERDUTY, Instant.now(), later());
		assertThat(resolve.action()).isEqualTo(AlertAction.RESOLVE);
		this.outbox.markRetry(resolve.id(), 503, "HTTP 503", Instant.now().plusSeconds(30), fence("orders"));
		this.harness.writes.flush(Duration.ofSeconds(10));
		assertThat(this.outbox.heldCount()).isEqualTo(2);

		// the incident is stored: the events follow it, the accepted one as sent (never sent again), the other pending
		this.harness.incidents.save(incident);
		this.outbox.add(incident.id(), incident.target(), AlertAction.TRIGGER, incident.dedupKey() + "/critical", "{}",
				Instant.now(), fence(incident.target()));
		this.harness.writes.flush(Duration.ofSeconds(10));
		assertThat(this.outbox.heldCount()).isZero();
		List<OutboxEntry> stored = this.outbox.forIncident(incident.id());
		assertThat(stored).extracting(OutboxEntry::action)
			.containsExactly(AlertAction.TRIGGER, AlertAction.RESOLVE, AlertAction.TRIGGER);
		assertThat(stored.get(0).state()).isEqualTo(State.SENT);
		assertThat(stored.get(0).lastStatus()).isEqualTo(202);
		assertThat(stored.get(0).sentAt()).isNotNull();
		assertThat(stored.get(1).state()).isEqualTo(State.PENDING);
		assertThat(stored.get(1).attempts()).isEqualTo(1);
		assertThat(stored.get(1).lastError()).isEqualTo("HTTP 503");
		// due: only the new one; the resolve waits for its retry time, the trigger was accepted
		assertThat(this.outbox.due(AlertChannel.PAGERDUTY, Instant.now(), 10)).isEmpty();
	}

	@Test
	void anEventPendingInTheStoreHoldsBackTheHeldEventsOfItsIncident() {
		Incident incident = Incidents.ddlQueue("orders", 4243);
		this.outbox.add(incident.id(), incident.target(), AlertAction.RESOLVE, incident.dedupKey(), "{}",
				Instant.now(), fence(incident.target()));
		this.harness.writes.flush(Duration.ofSeconds(10));
		this.outbox.pendingInStore(Set.of(incident.id() + "|pagerduty"));
		assertThat(this.outbox.nextHeld(AlertChannel.PAGERDUTY, Instant.now(), later())).isNull();
		this.outbox.pendingInStore(Set.of());
		assertThat(this.outbox.nextHeld(AlertChannel.PAGERDUTY, Instant.now(), later())).isNotNull();
	}

	@Test
	void aReplicaReadsTheDueEventsOfTheTargetsItLeadsOnlySoOthersNeverFillItsBatch() {
		for (String target : List.of("orders", "billing")) {
			Incident incident = Incidents.ddlQueue(target, 4250);
			this.harness.incidents.save(incident);
			this.outbox.add(incident.id(), target, AlertAction.TRIGGER, incident.dedupKey(), "{}", Instant.now(),
					fence(target));
		}
		this.harness.writes.flush(Duration.ofSeconds(10));
		Instant now = Instant.now().plusSeconds(1);

		assertThat(this.outbox.due(AlertChannel.PAGERDUTY, now, 10)).extracting(OutboxEntry::target)
			.containsExactlyInAnyOrder("orders", "billing");
		assertThat(this.outbox.due(AlertChannel.PAGERDUTY, now, 1, List.of("billing"), false))
			.extracting(OutboxEntry::target)
			.containsExactly("billing");
		assertThat(this.outbox.due(AlertChannel.PAGERDUTY, now, 10, List.of(), true)).isEmpty();
		assertThat(this.outbox.due(AlertChannel.PAGERDUTY, now, 10, List.of(), false)).isEmpty();
	}

	@Test
	void theSendersReadOfTheStoreTellsWhichIncidentsHavePendingEvents() {
		Incident incident = Incidents.ddlQueue("orders", 4245);
		this.harness.incidents.save(incident);
		this.outbox.add(incident.id(), incident.target(), AlertAction.TRIGGER, incident.dedupKey(), "{}",
				Instant.now(), fence(incident.target()));
		this.harness.writes.flush(Duration.ofSeconds(10));
		assertThat(this.outbox.heldCount()).isZero();
		assertThat(this.outbox.backlog().get(AlertChannel.PAGERDUTY).pending()).isEqualTo(1);
		// the store stops taking writes: the resolve waits in memory, behind the trigger still pending in the store
		AtomicBoolean storeUp = new AtomicBoolean(false);
		this.harness.writes.submit("a write the store refuses", null, false, () -> {
			if (!storeUp.get()) {
				throw new DataAccessResourceFailureException("store down");
			}
		});
		this.outbox.add(incident.id(), incident.target(), AlertAction.RESOLVE, incident.dedupKey(), "{}",
				Instant.now(), fence(incident.target()));
		assertThat(this.outbox.nextHeld(AlertChannel.PAGERDUTY, Instant.now(), later())).isNull();
	}

	@Test
	void anEventIsSentFromMemoryOnlyOnceItHasWaitedForTheStore() {
		Incident incident = Incidents.ddlQueue("orders", 4244);
		Instant created = Instant.now();
		this.outbox.add(incident.id(), incident.target(), AlertAction.TRIGGER, incident.dedupKey(), "{}",
				created, fence(incident.target()));
		this.harness.writes.flush(Duration.ofSeconds(10));
		assertThat(this.outbox.nextHeld(AlertChannel.PAGERDUTY, Instant.now(), created)).isNull();
		assertThat(this.outbox.nextHeld(AlertChannel.PAGERDUTY, Instant.now(), created.plusNanos(1))).isNotNull();
	}

	@Test
	void atTheLimitAnEventAlreadySentIsForgottenFirstAndEveryLossIsCounted() {
		// a store that refuses writes: everything added waits behind this write
		AtomicBoolean storeUp = new AtomicBoolean(false);
		this.harness.writes.submit("a write the store refuses", null, false, () -> {
			if (!storeUp.get()) {
				throw new DataAccessResourceFailureException("store down");
			}
		});
		await().atMost(Duration.ofSeconds(5)).until(() -> this.harness.writes.failure() != null);
		for (int i = 0; i < AlertOutbox.MAX_HELD; i++) {
			this.outbox.add("incident-" + i, "orders", AlertAction.TRIGGER, "key-" + i, "{}", Instant.now(), fence("orders"));
		}
		OutboxEntry first = this.outbox.nextHeld(AlertChannel.PAGERDUTY, Instant.now(), later());
		assertThat(first.incidentId()).isEqualTo("incident-0");
		this.outbox.markSent(first.id(), 202, Instant.now(), fence("orders"));
		assertThat(this.outbox.heldDropped(AlertChannel.PAGERDUTY)).isZero();

		this.outbox.add("incident-late", "orders", AlertAction.TRIGGER, "key-late", "{}", Instant.now(), fence("orders"));
		assertThat(this.outbox.heldCount()).isEqualTo(AlertOutbox.MAX_HELD);
		assertThat(this.outbox.heldDropped(AlertChannel.PAGERDUTY)).isEqualTo(1);
		// the sent one lost only its record; every unsent one is still there, oldest first
		assertThat(this.outbox.nextHeld(AlertChannel.PAGERDUTY, Instant.now(), later()).incidentId())
			.isEqualTo("incident-1");

		this.outbox.add("incident-later", "orders", AlertAction.TRIGGER, "key-later", "{}", Instant.now(), fence("orders"));
		assertThat(this.outbox.heldDropped(AlertChannel.PAGERDUTY)).isEqualTo(2);
		assertThat(this.harness.meters.get("pglockwatch.alert.outbox.dropped").tag("channel", "pagerduty").functionCounter().count()).isEqualTo(2);
	}

}
