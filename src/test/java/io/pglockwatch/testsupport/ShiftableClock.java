package io.pglockwatch.testsupport;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * A clock for tests that a test moves forward: the system clock shifted on demand (a rate window or a login throttle
 * passes without the wait), a fixed start, or whatever time the test's own supplier says.
 */
public final class ShiftableClock extends Clock {

	private final Supplier<Instant> base;

	private final AtomicReference<Duration> offset = new AtomicReference<>(Duration.ZERO);

	private ShiftableClock(Supplier<Instant> base) {
		this.base = base;
	}

	/** The system clock, until shifted. */
	public static ShiftableClock system() {
		return new ShiftableClock(Instant::now);
	}

	/** Stands at {@code start} until shifted. */
	public static ShiftableClock at(Instant start) {
		return new ShiftableClock(() -> start);
	}

	/** Reads the test's own time. */
	public static ShiftableClock of(Supplier<Instant> now) {
		return new ShiftableClock(now);
	}

	public void shift(Duration by) {
		this.offset.updateAndGet((current) -> current.plus(by));
	}

	@Override
	public Instant instant() {
		return this.base.get().plus(this.offset.get());
	}

	@Override
	public ZoneId getZone() {
		return ZoneOffset.UTC;
	}

	@Override
	public Clock withZone(ZoneId zone) {
		throw new UnsupportedOperationException();
	}

}
