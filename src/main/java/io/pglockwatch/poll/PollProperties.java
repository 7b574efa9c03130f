package io.pglockwatch.poll;

import java.time.Duration;

import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.hibernate.validator.constraints.time.DurationMin;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.ConstructorBinding;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * How and how often targets are read ({@code pglockwatch.poll.*}).
 *
 * @param interval time between the starts of two polls of one target; polls of one target never overlap
 * @param statementTimeout {@code statement_timeout} of the monitor's own sessions
 * @param lockTimeout {@code lock_timeout} of the monitor's own sessions, so it never queues behind a DDL
 * @param deadline a poll still running after this many intervals has failed with reason {@code timeout}
 * @param connectTimeout TCP connect and login timeout for a target
 * @param burstInterval while a session of a target waits for a relation lock that blocks writes (a DDL queue in the
 * making), that target is polled this often instead of every {@code interval}; {@code 0} turns bursts off
 */
@Validated
@ConfigurationProperties(prefix = "pglockwatch.poll", ignoreUnknownFields = false)
public record PollProperties(
		@NotNull @DurationMin(millis = 100, message = "must be at least 100ms") @DefaultValue("1s") Duration interval,
		@NotNull @DurationMin(millis = 1, message = "must be positive") @DefaultValue("2s") Duration statementTimeout,
		@NotNull @DurationMin(millis = 1, message = "must be positive") @DefaultValue("100ms") Duration lockTimeout,
		@Min(value = 1, message = "must be at least 1") @Max(value = 100, message = "must be at most 100") @DefaultValue("2") int deadline,
		@NotNull @DurationMin(seconds = 1, message = "must be at least 1s") @DefaultValue("5s") Duration connectTimeout,
		@NotNull @DurationMin(millis = 0, message = "must not be negative") @DefaultValue("250ms") Duration burstInterval) {

	@ConstructorBinding
	public PollProperties {
	}

	/** The shortest burst interval: below it a burst costs more than a page gains. */
	public static final Duration MIN_BURST_INTERVAL = Duration.ofMillis(50);

	/** Every setting but the burst interval, which is then the default. */
	public PollProperties(Duration interval, Duration statementTimeout, Duration lockTimeout, int deadline,
			Duration connectTimeout) {
		this(interval, statementTimeout, lockTimeout, deadline, connectTimeout, Duration.ofMillis(250));
	}

	/** A burst interval is 0 (off) or between {@link #MIN_BURST_INTERVAL} and the interval. */
	public static boolean isValidBurst(Duration burst, Duration interval) {
		return burst == null || interval == null || burst.isZero()
				|| (burst.compareTo(MIN_BURST_INTERVAL) >= 0 && burst.compareTo(interval) < 0);
	}

	@AssertTrue(message = "pglockwatch.poll.burst-interval must be 0 (no bursts) or at least 50ms and shorter than "
			+ "pglockwatch.poll.interval")
	boolean isBurstIntervalValid() {
		return isValidBurst(this.burstInterval, this.interval);
	}

	/** How long a poll may run before it has failed with reason {@code timeout}. */
	public Duration deadlineDuration() {
		return this.interval.multipliedBy(this.deadline);
	}

	/** The statement timeout must leave room before the deadline, or a slow read would always time out. */
	@AssertTrue(message = "pglockwatch.poll.statement-timeout must not be longer than pglockwatch.poll.interval "
			+ "x pglockwatch.poll.deadline")
	boolean isStatementTimeoutWithinDeadline() {
		return this.statementTimeout == null || this.interval == null
				|| this.statementTimeout.compareTo(deadlineDuration()) <= 0;
	}

}
