package io.pglockwatch.gate;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The gate's settings, with the names and defaults of the Spring properties under {@code pglockwatch.gate} (see
 * docs/gate.md). Immutable; build one with {@link #builder()}, which validates every value and names the property of
 * each one it refuses.
 */
public final class GateSettings {

	private final Duration lockTimeout;
	private final Duration statementTimeout;
	private final Duration maxVictimWait;
	private final Duration backoffInitial;
	private final Duration backoffMax;
	private final double backoffMultiplier;
	private final int maxAttempts;
	private final Duration deadline;
	private final boolean preCheck;
	private final String monitorUrl;
	private final String monitorTarget;
	private final String monitorToken;
	private final Duration pollInterval;

	private GateSettings(Builder b) {
		this.lockTimeout = b.lockTimeout;
		this.statementTimeout = b.statementTimeout;
		this.maxVictimWait = b.maxVictimWait;
		this.backoffInitial = b.backoffInitial;
		this.backoffMax = b.backoffMax;
		this.backoffMultiplier = b.backoffMultiplier;
		this.maxAttempts = b.maxAttempts;
		this.deadline = b.deadline;
		this.preCheck = b.preCheck;
		this.monitorUrl = b.monitorUrl == null ? "" : b.monitorUrl.strip();
		this.monitorTarget = b.monitorTarget == null ? "" : b.monitorTarget.strip();
		this.monitorToken = b.monitorToken == null ? "" : b.monitorToken.strip();
		this.pollInterval = b.pollInterval;
	}

	/** The defaults of docs/gate.md. */
	public static GateSettings defaults() {
		return builder().build();
	}

	public static Builder builder() {
		return new Builder();
	}

	/** A builder starting from these settings. */
	public Builder toBuilder() {
		return new Builder().lockTimeout(lockTimeout).statementTimeout(statementTimeout).maxVictimWait(maxVictimWait)
				.backoffInitial(backoffInitial).backoffMax(backoffMax).backoffMultiplier(backoffMultiplier)
				.maxAttempts(maxAttempts).deadline(deadline).preCheck(preCheck).monitorUrl(monitorUrl)
				.monitorTarget(monitorTarget).monitorToken(monitorToken).pollInterval(pollInterval);
	}

	/** {@code lock-timeout}: {@code SET LOCAL lock_timeout} of every migration. */
	public Duration lockTimeout() {
		return lockTimeout;
	}

	/** {@code statement-timeout}: zero leaves {@code statement_timeout} as it is. */
	public Duration statementTimeout() {
		return statementTimeout;
	}

	/** {@code max-victim-wait}: how long a session may wait behind the migration before the gate cancels it. */
	public Duration maxVictimWait() {
		return maxVictimWait;
	}

	public Duration backoffInitial() {
		return backoffInitial;
	}

	public Duration backoffMax() {
		return backoffMax;
	}

	public double backoffMultiplier() {
		return backoffMultiplier;
	}

	public int maxAttempts() {
		return maxAttempts;
	}

	/** {@code deadline}: the time one migration may take, all attempts and waits together. */
	public Duration deadline() {
		return deadline;
	}

	/** {@code pre-check}: before each attempt, look for sessions holding a conflicting lock and wait instead. */
	public boolean preCheck() {
		return preCheck;
	}

	/** {@code monitor.url}: the pg-lockwatch service's base URL; empty for none. */
	public String monitorUrl() {
		return monitorUrl;
	}

	public String monitorTarget() {
		return monitorTarget;
	}

	public String monitorToken() {
		return monitorToken;
	}

	public boolean hasMonitor() {
		return !monitorUrl.isEmpty();
	}

	/** How often the watcher looks at the migration's session; not a property (50 ms). */
	public Duration pollInterval() {
		return pollInterval;
	}

	/**
	 * The sleep before attempt {@code k + 1} after {@code k} failed ones (k >= 1), with full jitter: uniform in
	 * {@code [0, min(max, initial * multiplier^(k-1))]}.
	 */
	public Duration backoffCeiling(int failedAttempts) {
		double millis = backoffInitial.toMillis() * Math.pow(backoffMultiplier, Math.max(0, failedAttempts - 1));
		return Duration.ofMillis((long) Math.min(backoffMax.toMillis(), millis));
	}

	@Override
	public String toString() {
		return "lock-timeout=" + lockTimeout.toMillis() + "ms, statement-timeout=" + statementTimeout.toMillis()
				+ "ms, max-victim-wait=" + maxVictimWait.toMillis() + "ms, backoff={initial=" + backoffInitial.toMillis()
				+ "ms, max=" + backoffMax.toMillis() + "ms, multiplier=" + backoffMultiplier + "}, max-attempts="
				+ maxAttempts + ", deadline=" + deadline + ", pre-check=" + preCheck
				+ (hasMonitor() ? ", monitor=" + monitorUrl + " target " + monitorTarget : "");
	}

	/** Collects settings; {@link #build()} validates them all and reports every bad one at once. */
	public static final class Builder {

		private Duration lockTimeout = Duration.ofSeconds(2);
		private Duration statementTimeout = Duration.ZERO;
		private Duration maxVictimWait = Duration.ofMillis(200);
		private Duration backoffInitial = Duration.ofMillis(500);
		private Duration backoffMax = Duration.ofSeconds(30);
		private double backoffMultiplier = 2;
		private int maxAttempts = 10;
		private Duration deadline = Duration.ofMinutes(15);
		private boolean preCheck = true;
		private String monitorUrl = "";
		private String monitorTarget = "";
		private String monitorToken = "";
		private Duration pollInterval = Duration.ofMillis(50);

		private Builder() {
		}

		public Builder lockTimeout(Duration value) {
			this.lockTimeout = value;
			return this;
		}

		public Builder statementTimeout(Duration value) {
			this.statementTimeout = value;
			return this;
		}

		public Builder maxVictimWait(Duration value) {
			this.maxVictimWait = value;
			return this;
		}

		public Builder backoffInitial(Duration value) {
			this.backoffInitial = value;
			return this;
		}

		public Builder backoffMax(Duration value) {
			this.backoffMax = value;
			return this;
		}

		public Builder backoffMultiplier(double value) {
			this.backoffMultiplier = value;
			return this;
		}

		public Builder maxAttempts(int value) {
			this.maxAttempts = value;
			return this;
		}

		public Builder deadline(Duration value) {
			this.deadline = value;
			return this;
		}

		public Builder preCheck(boolean value) {
			this.preCheck = value;
			return this;
		}

		public Builder monitorUrl(String value) {
			this.monitorUrl = value;
			return this;
		}

		public Builder monitorTarget(String value) {
			this.monitorTarget = value;
			return this;
		}

		public Builder monitorToken(String value) {
			this.monitorToken = value;
			return this;
		}

		/** For tests; not a property. */
		public Builder pollInterval(Duration value) {
			this.pollInterval = value;
			return this;
		}

		/**
		 * @throws IllegalArgumentException naming every property whose value is refused, with the rule it breaks
		 */
		public GateSettings build() {
			List<String> errors = new ArrayList<>();
			positive(errors, "lock-timeout", lockTimeout);
			notNegative(errors, "statement-timeout", statementTimeout);
			positive(errors, "max-victim-wait", maxVictimWait);
			notNegative(errors, "backoff.initial", backoffInitial);
			positive(errors, "backoff.max", backoffMax);
			if (backoffInitial != null && backoffMax != null && backoffInitial.compareTo(backoffMax) > 0) {
				errors.add("pglockwatch.gate.backoff.initial (" + backoffInitial.toMillis()
						+ "ms) must be <= pglockwatch.gate.backoff.max (" + backoffMax.toMillis() + "ms)");
			}
			if (!(backoffMultiplier >= 1) || Double.isInfinite(backoffMultiplier)) {
				errors.add("pglockwatch.gate.backoff.multiplier must be a number >= 1, not " + backoffMultiplier);
			}
			if (maxAttempts < 1) {
				errors.add("pglockwatch.gate.max-attempts must be >= 1, not " + maxAttempts);
			}
			positive(errors, "deadline", deadline);
			positive(errors, "poll interval", pollInterval);
			if (lockTimeout != null && lockTimeout.toMillis() > Integer.MAX_VALUE) {
				errors.add("pglockwatch.gate.lock-timeout must be below 24 days");
			}
			String url = monitorUrl == null ? "" : monitorUrl.strip();
			if (!url.isEmpty()) {
				try {
					URI uri = URI.create(url);
					if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
						errors.add("pglockwatch.gate.monitor.url must be an http or https URL, not '" + url + "'");
					}
				}
				catch (IllegalArgumentException e) {
					errors.add("pglockwatch.gate.monitor.url is not a URL: '" + url + "'");
				}
				if (monitorTarget == null || monitorTarget.isBlank()) {
					errors.add("pglockwatch.gate.monitor.target must name the pg-lockwatch target of this database "
							+ "when pglockwatch.gate.monitor.url is set");
				}
			}
			if (!errors.isEmpty()) {
				throw new IllegalArgumentException("invalid gate settings: " + String.join("; ", errors));
			}
			return new GateSettings(this);
		}

		private static void positive(List<String> errors, String name, Duration value) {
			if (value == null || value.isZero() || value.isNegative()) {
				errors.add("pglockwatch.gate." + name + " must be > 0, not " + describe(value));
			}
		}

		private static void notNegative(List<String> errors, String name, Duration value) {
			if (value == null || value.isNegative()) {
				errors.add("pglockwatch.gate." + name + " must be >= 0, not " + describe(value));
			}
		}

		private static String describe(Duration value) {
			return Objects.toString(value == null ? null : value.toMillis() + "ms");
		}

	}

}
