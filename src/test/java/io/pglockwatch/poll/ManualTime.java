package io.pglockwatch.poll;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import io.pglockwatch.testsupport.ShiftableClock;

/**
 * A monotonic clock (what {@code System.nanoTime()} gives the poller) and a wall clock that move together,
 * and only when a test moves them, so scheduling tests never sleep and never depend on the machine's speed.
 */
final class ManualTime {

	static final Instant START = Instant.parse("2026-11-23T12:00:00Z");

	private final long originNanos;

	private volatile long nanos;

	/** {@code originNanos} is what the monotonic clock reads at {@link #START}; it may be negative. */
	ManualTime(long originNanos) {
		this.originNanos = originNanos;
		this.nanos = originNanos;
	}

	long nanoTime() {
		return this.nanos;
	}

	Duration elapsed() {
		return Duration.ofNanos(this.nanos - this.originNanos);
	}

	void advance(Duration duration) {
		this.nanos += duration.toNanos();
	}

	/** Moves to {@code sinceStart} after {@link #START}; never backwards, as a monotonic clock. */
	void set(Duration sinceStart) {
		long target = this.originNanos + sinceStart.toNanos();
		if (target < this.nanos) {
			throw new IllegalArgumentException("time runs forwards only");
		}
		this.nanos = target;
	}

	Clock clock() {
		return ShiftableClock.of(() -> START.plus(elapsed()));
	}

}
