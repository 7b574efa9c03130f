package io.pglockwatch.metrics;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.graph.SnapshotFixture;
import io.pglockwatch.lock.LockMode;
import io.pglockwatch.lock.LockSnapshot;
import io.pglockwatch.poll.PollFailure;
import io.pglockwatch.poll.PollOutcome;
import io.pglockwatch.poll.TargetState;
import io.pglockwatch.poll.TargetStates;
import io.pglockwatch.poll.TargetStatus;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.pglockwatch.graph.SnapshotFixture.relation;
import static io.pglockwatch.lock.LockMode.ACCESS_EXCLUSIVE;
import static io.pglockwatch.lock.LockMode.ACCESS_SHARE;
import static org.assertj.core.api.Assertions.assertThat;

/** What {@link LockMetrics} exports for known target states and poll outcomes, on a plain in-memory registry. */
class LockMetricsTests {

	private static final long USERS = 20001;

	private final TargetStatus status = new TargetStatus(List.of("orders", "billing"));

	private final LockMetrics metrics = new LockMetrics(this.status);

	private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

	/** An ALTER TABLE waiting 42 s behind a reader, with three sessions queued behind the ALTER. */
	private final SnapshotFixture ddlQueue = new SnapshotFixture().name(USERS, "public", "users")
		.session(100, "reporting", "active")
		.session(200, "migrate", "active")
		.holds(100, relation(USERS), ACCESS_SHARE)
		.waits(200, relation(USERS), ACCESS_EXCLUSIVE, 42)
		.session(301, "api", "active")
		.waits(301, relation(USERS), ACCESS_SHARE, 39)
		.session(302, "api", "active")
		.waits(302, relation(USERS), ACCESS_SHARE, 38)
		.session(303, "api", "active")
		.waits(303, relation(USERS), ACCESS_SHARE, 37);

	@BeforeEach
	void bind() {
		this.metrics.bindTo(this.registry);
	}

	private double gauge(String name, String target) {
		return this.registry.get(name).tag("target", target).gauge().value();
	}

	private double waiters(String target, LockMode mode) {
		return this.registry.get("pglockwatch.lock.waiters").tag("target", target).tag("mode", mode.pgName()).gauge().value();
	}

	private double failures(String target, PollFailure reason) {
		return this.registry.get("pglockwatch.poll.failures").tag("target", target).tag("reason", reason.label())
			.counter()
			.count();
	}

	private double blockedSeconds(String target) {
		return this.registry.get("pglockwatch.blocked.session").tag("target", target).functionCounter().count();
	}

	private PollOutcome succeeded(String target, LockSnapshot snapshot, Duration duration, Duration startDelay,
			long overruns) {
		LockWaitGraph graph = LockWaitGraph.of(snapshot);
		TargetStates.up(this.status, target, graph);
		return new PollOutcome(target, this.status.get(target), duration, snapshot, graph, null, null, startDelay,
				overruns);
	}

	private PollOutcome failed(String target, PollFailure failure, Duration duration) {
		TargetStates.failed(this.status, target, failure, "it failed");
		TargetState state = this.status.get(target);
		return new PollOutcome(target, state, duration, null, null, failure, "it failed", Duration.ofMillis(1), 0);
	}

	@Test
	void everyTargetHasItsSeriesFromStartupAndLockGaugesReadNaNBeforeTheFirstPoll() {
		for (String target : List.of("orders", "billing")) {
			assertThat(gauge("pglockwatch.target.up", target)).isZero();
			assertThat(gauge("pglockwatch.last.successful.poll.timestamp", target)).isNaN();
			for (LockMode mode : LockMode.values()) {
				assertThat(waiters(target, mode)).as(mode.pgName()).isNaN();
			}
			assertThat(gauge("pglockwatch.lock.wait.max", target)).isNaN();
			assertThat(gauge("pglockwatch.root.blockers", target)).isNaN();
			assertThat(gauge("pglockwatch.ddl.queue.depth", target)).isNaN();
			assertThat(gauge("pglockwatch.ddl.queue.wait", target)).isNaN();
			for (PollFailure reason : PollFailure.values()) {
				assertThat(failures(target, reason)).isZero();
			}
			assertThat(this.registry.get("pglockwatch.poll.overruns").tag("target", target).counter().count()).isZero();
			assertThat(this.registry.get("pglockwatch.poll.duration").tag("target", target).timer().count()).isZero();
			assertThat(blockedSeconds(target)).isZero();
		}
		assertThat(this.registry.get("pglockwatch.poll.start.delay").timer().count()).isZero();
	}

	@Test
	void gaugesReadTheLatestSuccessfulPoll() {
		TargetStates.up(this.status, "orders", this.ddlQueue.graph());

		assertThat(gauge("pglockwatch.target.up", "orders")).isOne();
		assertThat(gauge("pglockwatch.last.successful.poll.timestamp", "orders"))
			.isEqualTo(this.status.get("orders").lastSuccessAt().toEpochMilli() / 1000.0);
		assertThat(waiters("orders", ACCESS_SHARE)).isEqualTo(3);
		assertThat(waiters("orders", ACCESS_EXCLUSIVE)).isOne();
		assertThat(waiters("orders", LockMode.ROW_EXCLUSIVE)).isZero();
		assertThat(gauge("pglockwatch.lock.wait.max", "orders")).isEqualTo(42.0);
		assertThat(gauge("pglockwatch.root.blockers", "orders")).isOne();
		assertThat(gauge("pglockwatch.ddl.queue.depth", "orders")).isEqualTo(3);
		assertThat(gauge("pglockwatch.ddl.queue.wait", "orders")).isEqualTo(42.0);
		// the other target has not been polled
		assertThat(gauge("pglockwatch.target.up", "billing")).isZero();
		assertThat(gauge("pglockwatch.ddl.queue.depth", "billing")).isNaN();
	}

	@Test
	void noLockMeansZeroNotNaN() {
		TargetStates.up(this.status, "orders", new SnapshotFixture().session(100, "api", "active").graph());

		assertThat(waiters("orders", ACCESS_EXCLUSIVE)).isZero();
		assertThat(gauge("pglockwatch.lock.wait.max", "orders")).isZero();
		assertThat(gauge("pglockwatch.root.blockers", "orders")).isZero();
		assertThat(gauge("pglockwatch.ddl.queue.depth", "orders")).isZero();
		assertThat(gauge("pglockwatch.ddl.queue.wait", "orders")).isZero();
	}

	@Test
	void whileTheTargetIsDownLockGaugesReadNaNAndTheLastSuccessStays() {
		TargetStates.up(this.status, "orders", this.ddlQueue.graph());
		double lastSuccess = gauge("pglockwatch.last.successful.poll.timestamp", "orders");
		TargetStates.failed(this.status, "orders", PollFailure.TIMEOUT, "poll still running after the deadline");
		// the state still holds the last graph, stale: it must not be served as the current one
		assertThat(this.status.get("orders").graph()).isNotNull();

		assertThat(gauge("pglockwatch.target.up", "orders")).isZero();
		assertThat(waiters("orders", ACCESS_SHARE)).isNaN();
		assertThat(gauge("pglockwatch.lock.wait.max", "orders")).isNaN();
		assertThat(gauge("pglockwatch.root.blockers", "orders")).isNaN();
		assertThat(gauge("pglockwatch.ddl.queue.depth", "orders")).isNaN();
		assertThat(gauge("pglockwatch.ddl.queue.wait", "orders")).isNaN();
		assertThat(gauge("pglockwatch.last.successful.poll.timestamp", "orders")).isEqualTo(lastSuccess);

		TargetStates.up(this.status, "orders", this.ddlQueue.graph());
		assertThat(gauge("pglockwatch.target.up", "orders")).isOne();
		assertThat(gauge("pglockwatch.ddl.queue.depth", "orders")).isEqualTo(3);
	}

	@Test
	void failuresCountByReasonAndEveryPollIsTimed() {
		this.metrics.onPoll(failed("orders", PollFailure.CONNECT, Duration.ofMillis(5)));
		this.metrics.onPoll(failed("orders", PollFailure.CONNECT, Duration.ofMillis(7)));
		this.metrics.onPoll(failed("orders", PollFailure.TIMEOUT, Duration.ofSeconds(2)));
		this.metrics.onPoll(succeeded("orders", this.ddlQueue.snapshot(), Duration.ofMillis(8), Duration.ofMillis(30), 3));

		assertThat(failures("orders", PollFailure.CONNECT)).isEqualTo(2);
		assertThat(failures("orders", PollFailure.TIMEOUT)).isOne();
		assertThat(failures("orders", PollFailure.PERMISSION)).isZero();
		assertThat(failures("orders", PollFailure.QUERY)).isZero();
		assertThat(failures("billing", PollFailure.CONNECT)).isZero();
		Timer duration = this.registry.get("pglockwatch.poll.duration").tag("target", "orders").timer();
		assertThat(duration.count()).isEqualTo(4);
		assertThat(duration.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(2020.0);
		assertThat(duration.max(TimeUnit.MILLISECONDS)).isEqualTo(2000.0);
		assertThat(this.registry.get("pglockwatch.poll.overruns").tag("target", "orders").counter().count())
			.isEqualTo(3);
	}

	@Test
	void startDelaysOfAllTargetsShareOneHistogramWithFixedBuckets() {
		this.metrics.onPoll(succeeded("orders", this.ddlQueue.snapshot(), Duration.ofMillis(8), Duration.ofMillis(30), 0));
		this.metrics.onPoll(succeeded("billing", this.ddlQueue.snapshot(), Duration.ofMillis(8), Duration.ofMillis(300), 0));

		Timer delay = this.registry.get("pglockwatch.poll.start.delay").timer();
		assertThat(delay.getId().getTags()).isEmpty();
		assertThat(delay.count()).isEqualTo(2);
		CountAtBucket[] buckets = delay.takeSnapshot().histogramCounts();
		assertThat(buckets).extracting((b) -> b.bucket(TimeUnit.MILLISECONDS))
			.containsExactly(5.0, 10.0, 25.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0);
		assertThat(buckets).extracting(CountAtBucket::count)
			.containsExactly(0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0);
	}

	@Test
	void blockedSessionTimeAddsUpOnlyBetweenConsecutiveSuccessfulPolls() {
		LockSnapshot snapshot = this.ddlQueue.snapshot();
		this.metrics.onPoll(succeeded("orders", snapshot, Duration.ofMillis(8), Duration.ZERO, 0));
		assertThat(blockedSeconds("orders")).isZero();
		this.metrics.onPoll(failed("orders", PollFailure.CONNECT, Duration.ofMillis(5)));
		// the time across a failed poll is not guessed at
		long before = System.nanoTime();
		this.metrics.onPoll(succeeded("orders", snapshot, Duration.ofMillis(8), Duration.ZERO, 0));
		assertThat(blockedSeconds("orders")).isZero();

		this.metrics.onPoll(succeeded("orders", snapshot, Duration.ofMillis(8), Duration.ZERO, 0));
		double elapsed = (System.nanoTime() - before) / 1e9;
		// four waiting sessions, for (at most) the time between the two polls
		assertThat(blockedSeconds("orders")).isPositive().isLessThanOrEqualTo(4 * elapsed);
	}

	@Test
	void anOutcomeOfAnUnknownTargetIsIgnored() {
		this.metrics.onPoll(failed("orders", PollFailure.QUERY, Duration.ofMillis(5)));
		this.metrics.onPoll(new PollOutcome("nope", TargetState.initial("nope"), Duration.ofMillis(5), null, null,
				PollFailure.QUERY, "it failed", Duration.ZERO, 0));

		assertThat(failures("orders", PollFailure.QUERY)).isOne();
		assertThat(this.registry.find("pglockwatch.poll.failures").tag("target", "nope").counters()).isEmpty();
		assertThat(this.registry.find("pglockwatch.target.up").gauges()).extracting((Gauge g) -> g.getId().getTag("target"))
			.containsExactlyInAnyOrder("orders", "billing");
	}

}
