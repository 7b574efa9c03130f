package io.pglockwatch.detect;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.graph.SnapshotFixture;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class IncidentLifecycleTests {

	private static final Thresholds DEFAULTS = Thresholds.defaults();

	private final AtomicInteger ids = new AtomicInteger();

	private final IncidentLifecycle lifecycle = new IncidentLifecycle("orders", List.of(),
			() -> "inc-" + this.ids.incrementAndGet());

	private static LockWaitGraph queue(int queued, double ddlWait, double at) {
		return DetectorTests.alterQueue(queued, ddlWait).at(at).graph();
	}

	private static LockWaitGraph quiet(double at) {
		return new SnapshotFixture().at(at).graph();
	}

	private static List<IncidentEvent.Type> types(List<IncidentEvent> events) {
		return events.stream().map(IncidentEvent::type).toList();
	}

	@Test
	void opensOnlyOnceTheFindingQualifies() {
		assertThat(this.lifecycle.advance(queue(5, 1, 0), DEFAULTS)).isEmpty();
		List<IncidentEvent> events = this.lifecycle.advance(queue(5, 1, 1), DEFAULTS);
		assertThat(types(events)).containsExactly(IncidentEvent.Type.OPENED);
		Incident incident = events.get(0).incident();
		assertThat(incident.state()).isEqualTo(IncidentState.OPEN);
		assertThat(incident.severity()).isEqualTo(Severity.WARNING);
		assertThat(incident.kind()).isEqualTo(IncidentKind.DDL_LOCK_QUEUE);
		assertThat(incident.openedAt()).isEqualTo(SnapshotFixture.NOW.plusSeconds(1));
		assertThat(events.get(0).peakGraph()).isNotNull();
		assertThat(events.get(0).point().queueDepth()).isEqualTo(5);
	}

	/**
	 * While a target is down nothing is known of its locks: an incident neither resolves nor is seen. It resolves at
	 * the first successful poll that finds the situation gone, here 37 s after it was last seen, with that poll's time.
	 */
	@Test
	void afterAnOutageAnIncidentResolvesAtTheFirstPollThatFindsItGone() {
		this.lifecycle.advance(queue(5, 3, 0), DEFAULTS);
		List<IncidentEvent> events = this.lifecycle.advance(quiet(37), DEFAULTS);
		assertThat(types(events)).containsExactly(IncidentEvent.Type.RESOLVED);
		Incident resolved = events.get(0).incident();
		assertThat(resolved.lastSeenAt()).isEqualTo(SnapshotFixture.NOW);
		assertThat(resolved.resolvedAt()).isEqualTo(SnapshotFixture.NOW.plusSeconds(37));
	}

	@Test
	void escalatesOnceWhenTheQueuePassesCriticalQueued() {
		this.lifecycle.advance(queue(5, 3, 0), DEFAULTS);
		List<IncidentEvent> events = this.lifecycle.advance(queue(20, 3, 1), DEFAULTS);
		assertThat(types(events)).containsExactly(IncidentEvent.Type.UPDATED, IncidentEvent.Type.ESCALATED);
		Incident escalated = events.get(1).incident();
		assertThat(escalated.severity()).isEqualTo(Severity.CRITICAL);
		assertThat(escalated.state()).isEqualTo(IncidentState.ESCALATED);
		assertThat(escalated.peakQueueDepth()).isEqualTo(20);
		assertThat(events.get(0).peakGraph()).as("a new peak carries its graph").isNotNull();
		assertThat(types(this.lifecycle.advance(queue(25, 3, 2), DEFAULTS))).containsExactly(IncidentEvent.Type.UPDATED);
		// never de-escalates
		assertThat(this.lifecycle.advance(queue(5, 3, 3), DEFAULTS).get(0).incident().severity()).isEqualTo(Severity.CRITICAL);
	}

	@Test
	void openingAlreadyCriticalOpensThenEscalates() {
		assertThat(types(this.lifecycle.advance(queue(30, 40, 0), DEFAULTS)))
			.containsExactly(IncidentEvent.Type.OPENED, IncidentEvent.Type.ESCALATED);
	}

	@Test
	void resolvesOnlyAfterResolveAfterWithoutTheCondition() {
		String id = this.lifecycle.advance(queue(5, 3, 0), DEFAULTS).get(0).incident().id();
		assertThat(types(this.lifecycle.advance(quiet(1), DEFAULTS))).containsExactly(IncidentEvent.Type.UPDATED);
		assertThat(types(this.lifecycle.advance(quiet(9.999), DEFAULTS))).containsExactly(IncidentEvent.Type.UPDATED);
		List<IncidentEvent> events = this.lifecycle.advance(quiet(10), DEFAULTS);
		assertThat(types(events)).containsExactly(IncidentEvent.Type.RESOLVED);
		assertThat(events.get(0).incident().id()).isEqualTo(id);
		assertThat(events.get(0).incident().state()).isEqualTo(IncidentState.RESOLVED);
		assertThat(events.get(0).incident().resolvedAt()).isEqualTo(SnapshotFixture.NOW.plusSeconds(10));
		assertThat(this.lifecycle.active()).isEmpty();
	}

	@Test
	void aRetryOfTheSameSessionWithinResolveAfterIsTheSameIncident() {
		String id = this.lifecycle.advance(queue(5, 3, 0), DEFAULTS).get(0).incident().id();
		this.lifecycle.advance(quiet(2), DEFAULTS); // lock_timeout fired, the migration sleeps
		// the retry waits afresh: below min-wait, yet it keeps the open incident alive
		List<IncidentEvent> retry = this.lifecycle.advance(queue(2, 0.5, 8), DEFAULTS);
		assertThat(types(retry)).containsExactly(IncidentEvent.Type.UPDATED);
		assertThat(retry.get(0).incident().id()).isEqualTo(id);
		this.lifecycle.advance(quiet(15), DEFAULTS);
		assertThat(this.lifecycle.advance(queue(5, 3, 17), DEFAULTS).get(0).incident().id()).isEqualTo(id);
		assertThat(this.ids.get()).isEqualTo(1);
	}

	@Test
	void aNewDdlSessionAfterTheResolveIsANewIncident() {
		String first = this.lifecycle.advance(queue(5, 3, 0), DEFAULTS).get(0).incident().id();
		this.lifecycle.advance(quiet(20), DEFAULTS);
		// waits are relative to NOW: -27 s read at +30 s is a 3 s wait
		LockWaitGraph newSession = DetectorTests.alterQueue(5, -27).sessionStartedAt(200, "migrate", 10).at(30).graph();
		List<IncidentEvent> events = this.lifecycle.advance(newSession, DEFAULTS);
		assertThat(types(events)).containsExactly(IncidentEvent.Type.OPENED);
		assertThat(events.get(0).incident().id()).isNotEqualTo(first);
	}

	@Test
	void aRestoredIncidentContinuesWithItsIdAndResolves() {
		Incident open = this.lifecycle.advance(queue(5, 3, 0), DEFAULTS).get(0).incident();
		IncidentLifecycle restarted = new IncidentLifecycle("orders", List.of(open), () -> "never");
		List<IncidentEvent> continued = restarted.advance(queue(6, 3, 5), DEFAULTS);
		assertThat(types(continued)).containsExactly(IncidentEvent.Type.UPDATED);
		assertThat(continued.get(0).incident().id()).isEqualTo(open.id());
		assertThat(types(restarted.advance(quiet(16), DEFAULTS))).containsExactly(IncidentEvent.Type.RESOLVED);
	}

	@Test
	void restoredIncidentsOfOtherTargetsOrResolvedOnesAreIgnored() {
		Incident open = this.lifecycle.advance(queue(5, 3, 0), DEFAULTS).get(0).incident();
		assertThat(new IncidentLifecycle("billing", List.of(open), () -> "x").active()).isEmpty();
	}

	@Test
	void customThresholdsApply() {
		Thresholds strict = new Thresholds(new Thresholds.DdlQueue(1, Duration.ZERO, 2, Duration.ofSeconds(5)),
				DEFAULTS.blockingChain(), DEFAULTS.idleBlocker(), Duration.ofSeconds(1));
		assertThat(types(this.lifecycle.advance(queue(2, 0.1, 0), strict)))
			.containsExactly(IncidentEvent.Type.OPENED, IncidentEvent.Type.ESCALATED);
		assertThat(types(this.lifecycle.advance(quiet(1), strict))).containsExactly(IncidentEvent.Type.RESOLVED);
	}

}
