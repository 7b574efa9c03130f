package io.pglockwatch.poll;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import io.pglockwatch.sql.QueryTextMode;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.Trigger;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;

/**
 * How the monitor lays out the targets' ticks on the scheduler (recorded, never run on a timer), and the two thread
 * pools that {@link TargetConfiguration} gives it.
 */
class TargetMonitorTests {

	private static final Duration INTERVAL = Duration.ofSeconds(1);

	private final RecordingScheduler scheduler = new RecordingScheduler();

	private final ManualTime time = new ManualTime(-5_000_000_000L);

	private final ManualExecutor workers = new ManualExecutor();

	private final List<PollOutcome> outcomes = new ArrayList<>();

	private TargetMonitor monitor(int targets) {
		List<TargetsProperties.Target> list = IntStream.range(0, targets)
			.mapToObj((i) -> new TargetsProperties.Target("t" + i, "jdbc:postgresql://127.0.0.1:1/t" + i, null, null,
					null))
			.toList();
		TargetsProperties properties = new TargetsProperties(list, QueryTextMode.REDACTED);
		PollProperties poll = new PollProperties(INTERVAL, Duration.ofMillis(500), Duration.ofMillis(100), 2,
				Duration.ofSeconds(1));
		DefaultListableBeanFactory beans = new DefaultListableBeanFactory();
		beans.registerSingleton("recorder", (PollListener) this.outcomes::add);
		return new TargetMonitor(properties, poll, new TargetStatus(properties.names()),
				beans.getBeanProvider(PollListener.class), this.time.clock(), this.scheduler, this.workers,
				this.time::nanoTime);
	}

	@Test
	void ticksRunAtAFixedRateWithStartsSpreadEvenlyOverOneInterval() {
		TargetMonitor monitor = monitor(4);
		monitor.start();

		assertThat(this.scheduler.ticks).extracting(Tick::start)
			.containsExactly(RecordingScheduler.NOW, RecordingScheduler.NOW.plusMillis(250),
					RecordingScheduler.NOW.plusMillis(500), RecordingScheduler.NOW.plusMillis(750));
		assertThat(this.scheduler.ticks).extracting(Tick::period).containsOnly(INTERVAL);
		assertThat(monitor.isRunning()).isTrue();
		assertThat(monitor.connections("t2")).isNotNull();
		monitor.stop();
	}

	@Test
	void eachTargetsTicksAreDueFromItsOwnOffset() {
		TargetMonitor monitor = monitor(4);
		monitor.start();
		Runnable third = this.scheduler.ticks.get(2).task();
		// its first tick is due at 500 ms and runs 20 ms late; the poll never gets a worker, so at the tick that
		// reaches the deadline (2 intervals) it fails, and counts as started then: 2.02 s after tick 0 was due
		this.time.set(Duration.ofMillis(520));
		third.run();
		this.time.set(Duration.ofMillis(1520));
		third.run();
		this.time.set(Duration.ofMillis(2520));
		third.run();

		assertThat(this.outcomes).singleElement().satisfies((outcome) -> {
			assertThat(outcome.target()).isEqualTo("t2");
			assertThat(outcome.failure()).isEqualTo(PollFailure.TIMEOUT);
			assertThat(outcome.startDelay()).isEqualTo(Duration.ofMillis(2020));
		});
		assertThat(this.workers.pending()).isOne();
		monitor.stop();
	}

	@Test
	void startOffsetsStayWithinOneInterval() {
		assertThat(IntStream.range(0, 3).mapToObj((i) -> TargetMonitor.startOffset(i, 3, INTERVAL)))
			.containsExactly(Duration.ZERO, Duration.ofNanos(333_333_333), Duration.ofNanos(666_666_666));
		assertThat(TargetMonitor.startOffset(0, 1, INTERVAL)).isZero();
		assertThat(TargetMonitor.startOffset(999, 1000, Duration.ofMillis(100))).isEqualTo(Duration.ofNanos(99_900_000));
	}

	@Test
	void stopCancelsTheTicksWithoutInterruptingOneAndClosesTheSessions() {
		TargetMonitor monitor = monitor(2);
		monitor.start();
		monitor.stop();

		for (Tick tick : this.scheduler.ticks) {
			verify(tick.future()).cancel(false);
		}
		assertThat(monitor.isRunning()).isFalse();
		assertThat(monitor.connections("t0")).isNull();
	}

	@Test
	void aHungPollNeverMakesAnotherPollWaitForAThread() throws InterruptedException {
		ThreadPoolTaskExecutor workers = new TargetConfiguration().pollWorkers();
		workers.initialize();
		CountDownLatch release = new CountDownLatch(1);
		CountDownLatch second = new CountDownLatch(1);
		List<String> names = new ArrayList<>();
		try {
			workers.execute(() -> {
				names.add(Thread.currentThread().getName());
				awaitQuietly(release);
			});
			workers.execute(() -> {
				names.add(Thread.currentThread().getName());
				second.countDown();
			});
			// the latch wait only bounds a failure; the second poll starts at once
			assertThat(second.await(10, TimeUnit.SECONDS)).isTrue();
			assertThat(names).hasSize(2).allMatch((name) -> name.startsWith("pglockwatch-poll-"));
		}
		finally {
			release.countDown();
			workers.shutdown();
		}
	}

	@Test
	void theSchedulerIsOneDaemonThreadNamedForTheTicks() throws Exception {
		ThreadPoolTaskScheduler scheduler = new TargetConfiguration().pollScheduler();
		scheduler.initialize();
		try {
			Thread thread = scheduler.submit(Thread::currentThread).get(10, TimeUnit.SECONDS);
			assertThat(thread.getName()).isEqualTo("pglockwatch-scheduler-1");
			assertThat(thread.isDaemon()).isTrue();
			assertThat(scheduler.getScheduledThreadPoolExecutor().getCorePoolSize()).isOne();
		}
		finally {
			scheduler.shutdown();
		}
	}

	private static void awaitQuietly(CountDownLatch latch) {
		try {
			latch.await(10, TimeUnit.SECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	record Tick(Runnable task, Instant start, Duration period, ScheduledFuture<?> future) {
	}

	/** Records what the monitor schedules; nothing runs unless a test runs it. */
	static final class RecordingScheduler implements TaskScheduler {

		static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");

		final List<Tick> ticks = new ArrayList<>();

		@Override
		public Clock getClock() {
			return Clock.fixed(NOW, ZoneOffset.UTC);
		}

		@Override
		public ScheduledFuture<?> scheduleAtFixedRate(Runnable task, Instant startTime, Duration period) {
			Tick tick = new Tick(task, startTime, period, mock(ScheduledFuture.class));
			this.ticks.add(tick);
			return tick.future();
		}

		@Override
		public ScheduledFuture<?> schedule(Runnable task, Trigger trigger) {
			throw new UnsupportedOperationException();
		}

		@Override
		public ScheduledFuture<?> schedule(Runnable task, Instant startTime) {
			throw new UnsupportedOperationException();
		}

		@Override
		public ScheduledFuture<?> scheduleAtFixedRate(Runnable task, Duration period) {
			throw new UnsupportedOperationException();
		}

		@Override
		public ScheduledFuture<?> scheduleWithFixedDelay(Runnable task, Instant startTime, Duration delay) {
			throw new UnsupportedOperationException();
		}

		@Override
		public ScheduledFuture<?> scheduleWithFixedDelay(Runnable task, Duration delay) {
			throw new UnsupportedOperationException();
		}

	}

}
