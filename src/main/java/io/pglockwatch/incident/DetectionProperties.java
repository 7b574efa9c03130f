package io.pglockwatch.incident;

import java.time.Duration;

import io.pglockwatch.detect.Thresholds;
import io.pglockwatch.poll.TargetsProperties.DetectionOverride;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.hibernate.validator.constraints.time.DurationMin;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * When a lock situation becomes an incident ({@code pglockwatch.detection.*}); each target may override any of it.
 *
 * @param ddlQueue a DDL waiting for a strong relation lock with sessions queued behind it
 * @param blockingChain any root blocker with many sessions behind it (row locks, advisory locks...)
 * @param idleBlocker a root blocker idle in a transaction
 * @param resolveAfter the condition must be gone this long before an incident resolves, so a migration that retries
 * with lock_timeout is one incident, not one per try
 */
@Validated
@ConfigurationProperties(prefix = "pglockwatch.detection", ignoreUnknownFields = false)
public record DetectionProperties(@Valid @DefaultValue DdlQueue ddlQueue, @Valid @DefaultValue BlockingChain blockingChain,
		@Valid @DefaultValue IdleBlocker idleBlocker,
		@NotNull @DurationMin(millis = 0, message = NOT_NEGATIVE) @DefaultValue("10s") Duration resolveAfter) {

	static final String NOT_NEGATIVE = "must not be negative";

	static final String AT_LEAST_ONE = "must be at least 1";

	/** These thresholds with a target's overrides applied. */
	public Thresholds thresholds(DetectionOverride override) {
		DdlQueue d = this.ddlQueue;
		BlockingChain b = this.blockingChain;
		Duration minIdle = this.idleBlocker.minIdle();
		Duration resolve = this.resolveAfter;
		if (override != null) {
			if (override.ddlQueue() != null) {
				var o = override.ddlQueue();
				d = new DdlQueue(or(o.minQueued(), d.minQueued()), or(o.minWait(), d.minWait()),
						or(o.criticalQueued(), d.criticalQueued()), or(o.criticalWait(), d.criticalWait()),
						or(o.gateGrace(), d.gateGrace()));
			}
			if (override.blockingChain() != null) {
				var o = override.blockingChain();
				b = new BlockingChain(or(o.minBlocked(), b.minBlocked()), or(o.minWait(), b.minWait()));
			}
			if (override.idleBlocker() != null) {
				minIdle = or(override.idleBlocker().minIdle(), minIdle);
			}
			resolve = or(override.resolveAfter(), resolve);
		}
		return new Thresholds(new Thresholds.DdlQueue(d.minQueued(), d.minWait(), d.criticalQueued(), d.criticalWait(),
				d.gateGrace()),
				new Thresholds.BlockingChain(b.minBlocked(), b.minWait()), new Thresholds.IdleBlocker(minIdle), resolve);
	}

	private static <T> T or(T value, T fallback) {
		return value != null ? value : fallback;
	}

	/**
	 * @param minQueued sessions queued behind the waiting DDL (directly or transitively)
	 * @param minWait how long the DDL itself has waited for its lock
	 * @param criticalQueued escalate to critical at this queue depth ...
	 * @param criticalWait ... or after this wait
	 * @param gateGrace a DDL run by the pg-lockwatch gate (its {@code application_name} starts
	 * {@code pglockwatch-gate}) opens an incident only once it has waited this long: the gate cancels its own
	 * statement long before, unless something is wrong with it
	 */
	public record DdlQueue(@Min(value = 1, message = AT_LEAST_ONE) @DefaultValue("3") int minQueued,
			@NotNull @DurationMin(millis = 0, message = NOT_NEGATIVE) @DefaultValue("2s") Duration minWait,
			@Min(value = 1, message = AT_LEAST_ONE) @DefaultValue("20") int criticalQueued,
			@NotNull @DurationMin(millis = 0, message = NOT_NEGATIVE) @DefaultValue("30s") Duration criticalWait,
			@NotNull @DurationMin(millis = 0, message = NOT_NEGATIVE) @DefaultValue("10s") Duration gateGrace) {
	}

	/**
	 * @param minBlocked sessions behind one root blocker
	 * @param minWait how long the longest of them has waited
	 */
	public record BlockingChain(@Min(value = 1, message = AT_LEAST_ONE) @DefaultValue("5") int minBlocked,
			@NotNull @DurationMin(millis = 0, message = NOT_NEGATIVE) @DefaultValue("30s") Duration minWait) {
	}

	/** @param minIdle how long the root blocker has been idle in its transaction while blocking */
	public record IdleBlocker(
			@NotNull @DurationMin(millis = 0, message = NOT_NEGATIVE) @DefaultValue("30s") Duration minIdle) {
	}

}
