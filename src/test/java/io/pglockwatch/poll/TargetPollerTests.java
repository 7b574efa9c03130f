package io.pglockwatch.poll;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.pglockwatch.graph.SnapshotFixture;
import io.pglockwatch.lock.LockSnapshot;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.pglockwatch.graph.SnapshotFixture.relation;
import static io.pglockwatch.lock.LockMode.ACCESS_EXCLUSIVE;
import static io.pglockwatch.lock.LockMode.ACCESS_SHARE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.BDDMockito.given;
import static org.mockito.BDDMockito.willAnswer;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;

/**
 * The decisions of {@link TargetPoller#tick()} (start, skip, expire, back off) on a hand-moved clock and a worker
 * pool whose tasks run only when the test says so: no threads and no sleeps.
 */
class TargetPollerTests {

	private static final Duration INTERVAL = Duration.ofSeconds(1);

	private final ManualTime time = new ManualTime(7_000_000_000L);

	private final ManualExecutor workers = new ManualExecutor();

	private final TargetConnections connections = mock(TargetConnections.class);

	private final LockSnapshotCollector collector = mock(LockSnapshotCollector.class);

	private final Connection connection = mock(Connection.class);

	private final TargetStatus status = new TargetStatus(List.of("orders"));

	private final List<PollOutcome> outcomes = new ArrayList<>();

	/** Whether this replica leads the target's shard, as the poller's assignment answers. */
	private volatile boolean watched = true;

	private final List<Duration> reads = new ArrayList<>();

	private final LockSnapshot snapshot = new SnapshotFixture().session(100, "reporting", "active")
		.session(200, "migrate", "active")
		.holds(100, relation(20001), ACCESS_SHARE)
		.waits(200, relation(20001), ACCESS_EXCLUSIVE, 42)
		.snapshot();

	@BeforeEach
	void sessions() throws SQLException {
		given(this.connections.borrow()).willReturn(this.connection);
		willAnswer((invocation) -> {
			this.reads.add(this.time.elapsed());
			return this.snapshot;
		}).given(this.collector).read(this.connection);
	}

	private TargetPoller poller(int deadline) {
		return poller(deadline, this.time);
	}

	private TargetPoller poller(int deadline, ManualTime time) {
		PollProperties poll = new PollProperties(INTERVAL, Duration.ofMillis(500), Duration.ofMillis(100), deadline,
				Duration.ofSeconds(1));
		// tick 0 is due now, tick k k intervals later
		return new TargetPoller("orders", poll, this.connections, this.collector, this.status,
				List.of(this.outcomes::add), this.workers, time.clock(), time::nanoTime, time.nanoTime(), null,
				Duration.ZERO, (target) -> this.watched);
	}

	private void tickAt(TargetPoller poller, double intervals) {
		this.time.set(Duration.ofMillis((long) (INTERVAL.toMillis() * intervals)));
		poller.tick();
	}

	@Test
	void tickStartsAPollOnAWorkerAndThePollPublishesTheGraph() {
		TargetPoller poller = poller(2);
		tickAt(poller, 0);
		assertThat(this.workers.pending()).isOne();
		assertThat(this.reads).isEmpty(); // the tick itself never touches the target

		this.time.advance(Duration.ofMillis(30)); // the worker picks the poll up late
		this.workers.runNext();

		PollOutcome outcome = this.outcomes.get(0);
		assertThat(outcome.succeeded()).isTrue();
		assertThat(outcome.startDelay()).isEqualTo(Duration.ofMillis(30));
		assertThat(outcome.duration()).isEqualTo(Duration.ofMillis(30));
		assertThat(outcome.overruns()).isZero();
		assertThat(outcome.graph().lockWaiterCount()).isEqualTo(1);
		TargetState state = this.status.get("orders");
		assertThat(state.isUp()).isTrue();
		assertThat(state.freshGraph()).isSameAs(outcome.graph());
		assertThat(state.lastPollAt()).isEqualTo(ManualTime.START);
		verify(this.connections).release(this.connection, false);
	}

	@Test
	void aTargetAnotherReplicaLeadsIsNotPolledItsSessionsCloseAndItsResultsAreDroppedOnceTheLeadMoves() {
		TargetPoller poller = poller(2);
		this.watched = false;
		tickAt(poller, 0);
		assertThat(this.workers.pending()).isZero();
		assertThat(this.status.watched("orders")).isFalse();
		assertThat(this.status.get("orders").error()).isEqualTo(TargetState.POLLED_ELSEWHERE);
		verify(this.connections).evictIdle();

		this.watched = true;
		tickAt(poller, 1);
		assertThat(this.status.watched("orders")).isTrue();
		assertThat(this.workers.pending()).isOne();
		// the lead moves while the poll runs: its result is the new leader's to report, not this replica's
		this.watched = false;
		tickAt(poller, 2);
		this.workers.runNext();
		assertThat(this.outcomes).isEmpty();
		assertThat(this.status.get("orders").error()).isEqualTo(TargetState.POLLED_ELSEWHERE);

		this.watched = true;
		tickAt(poller, 3);
		this.workers.runNext();
		assertThat(this.outcomes).singleElement().satisfies((outcome) -> assertThat(outcome.succeeded()).isTrue());
		assertThat(this.status.get("orders").isUp()).isTrue();
	}

	@Test
	void ticksALateSchedulerRunsBackToBackAreSkippedAndCounted() {
		TargetPoller poller = poller(2);
		tickAt(poller, 0);
		this.workers.runNext();
		// the scheduler stalled for three intervals and now runs the ticks it missed, one right after another
		tickAt(poller, 3);
		this.workers.runNext();
		tickAt(poller, 3.01);
		tickAt(poller, 3.02);
		assertThat(this.workers.pending()).isZero();
		tickAt(poller, 4);
		this.workers.runNext();

		assertThat(this.outcomes).hasSize(3);
		assertThat(this.outcomes).extracting(PollOutcome::overruns).containsExactly(0L, 0L, 2L);
	}

	@Test
	void tickWhileThePollStillRunsIsSkippedAndCountedAsAnOverrun() {
		TargetPoller poller = poller(5);
		tickAt(poller, 0);
		tickAt(poller, 1);
		tickAt(poller, 2);
		// one poll in flight, never a second one of the same target
		assertThat(this.workers.pending()).isOne();

		this.workers.runNext();
		tickAt(poller, 3);
		this.time.advance(Duration.ofMillis(4));
		this.workers.runNext();

		assertThat(this.reads).containsExactly(Duration.ofSeconds(2), Duration.ofMillis(3004));
		assertThat(this.outcomes).extracting(PollOutcome::overruns).containsExactly(0L, 2L);
		// measured from the tick that started it: tick 3 was due at 3 s
		assertThat(this.outcomes.get(1).startDelay()).isEqualTo(Duration.ofMillis(4));
		assertThat(this.outcomes).allMatch(PollOutcome::succeeded);
	}

	@Test
	void pollPastItsDeadlineFailsWithTimeoutAndItsConnectionIsAborted() throws SQLException {
		TargetPoller poller = poller(2);
		// the read hangs across two ticks; the second is at the deadline (2 intervals after the poll started)
		willAnswer((invocation) -> {
			tickAt(poller, 1);
			assertThat(this.outcomes).isEmpty();
			tickAt(poller, 2);
			return this.snapshot;
		}).given(this.collector).read(this.connection);
		tickAt(poller, 0);
		this.workers.runNext();

		assertThat(this.outcomes).singleElement().satisfies((outcome) -> {
			assertThat(outcome.failure()).isEqualTo(PollFailure.TIMEOUT);
			assertThat(outcome.error()).isEqualTo("poll still running after the deadline of 2000 ms");
			assertThat(outcome.duration()).isEqualTo(Duration.ofSeconds(2));
		});
		TargetState state = this.status.get("orders");
		assertThat(state.up()).isFalse();
		assertThat(state.failure()).isEqualTo(PollFailure.TIMEOUT);
		// the abort runs on a worker, never on the tick thread
		verify(this.connection, never()).abort(any());
		assertThat(this.workers.pending()).isOne();
		this.workers.runNext();
		verify(this.connection).abort(any());
		// the late read is dropped, and so is its session
		assertThat(this.outcomes).hasSize(1);
		verify(this.connections).release(this.connection, true);
		verify(this.connections, never()).release(this.connection, false);
	}

	@Test
	void pollThatNeverGotAWorkerFailsAtItsDeadlineAndNoSecondPollStarts() throws SQLException {
		TargetPoller poller = poller(2);
		tickAt(poller, 0);
		tickAt(poller, 1);
		tickAt(poller, 2);

		assertThat(this.outcomes).singleElement().satisfies((outcome) -> {
			assertThat(outcome.failure()).isEqualTo(PollFailure.TIMEOUT);
			// it started no earlier than its deadline
			assertThat(outcome.startDelay()).isEqualTo(Duration.ofSeconds(2));
		});
		tickAt(poller, 3);
		assertThat(this.workers.pending()).isOne();

		// when the worker finally runs it, the poll opens no session and reports nothing
		this.workers.runNext();
		verify(this.connections, never()).borrow();
		assertThat(this.outcomes).hasSize(1);
		tickAt(poller, 4);
		assertThat(this.workers.pending()).isOne();
	}

	@Test
	void connectFailuresBackOffExponentiallyUpToTenSecondsAndASuccessResetsIt() throws SQLException {
		List<Duration> attempts = new ArrayList<>();
		given(this.connections.borrow()).willAnswer((invocation) -> {
			Duration now = this.time.elapsed();
			attempts.add(now);
			if (now.equals(Duration.ofSeconds(25))) {
				return this.connection;
			}
			throw new SQLException("Connection refused", "08001");
		});
		TargetPoller poller = poller(2);
		for (int tick = 0; tick <= 30; tick++) {
			tickAt(poller, tick);
			this.workers.runAll();
		}

		// 1, 2, 4, 8 intervals between attempts, then capped at 10 s; after the success at 25 s, 1 again
		assertThat(attempts).extracting(Duration::toSeconds).containsExactly(0L, 1L, 3L, 7L, 15L, 25L, 26L, 27L, 29L);
		assertThat(this.outcomes).extracting(PollOutcome::failure)
			.containsExactly(PollFailure.CONNECT, PollFailure.CONNECT, PollFailure.CONNECT, PollFailure.CONNECT,
					PollFailure.CONNECT, null, PollFailure.CONNECT, PollFailure.CONNECT, PollFailure.CONNECT);
		// a refused connection may mean a restarted server: its idle sessions are dead too
		verify(this.connections, times(8)).evictIdle();
	}

	@Test
	void aMonotonicClockBelowZeroIsNoReasonToWait() {
		// System.nanoTime() has an arbitrary origin: only differences between readings mean anything
		ManualTime negative = new ManualTime(-3_000_000_000L);
		TargetPoller poller = poller(2, negative);
		poller.tick();
		assertThat(this.workers.pending()).isOne();
		negative.advance(Duration.ofMillis(2));
		this.workers.runNext();
		assertThat(this.outcomes).singleElement().satisfies((outcome) -> {
			assertThat(outcome.succeeded()).isTrue();
			assertThat(outcome.startDelay()).isEqualTo(Duration.ofMillis(2));
		});
	}

}
