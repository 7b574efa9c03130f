package io.pglockwatch.gate;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The gate's Spring Boot properties, {@code pglockwatch.gate.*}; {@link #toSettings()} validates them into
 * {@link GateSettings}, whose defaults they share.
 */
@ConfigurationProperties(prefix = "pglockwatch.gate")
public class GateProperties {

	private static final GateSettings DEFAULTS = GateSettings.defaults();

	/** Whether Flyway migrations run through the gate. */
	private boolean enabled = false;

	/** The lock_timeout of every migration. */
	private Duration lockTimeout = DEFAULTS.lockTimeout();

	/** The statement_timeout of every migration; 0 leaves it as it is. */
	private Duration statementTimeout = DEFAULTS.statementTimeout();

	/** Cancel the migration's waiting statement once a session has waited this long behind it. */
	private Duration maxVictimWait = DEFAULTS.maxVictimWait();

	private final Backoff backoff = new Backoff();

	/** Attempts per migration, the first one included. */
	private int maxAttempts = DEFAULTS.maxAttempts();

	/** The time one migration may take, all attempts together. */
	private Duration deadline = DEFAULTS.deadline();

	/** Before each attempt, look for sessions holding a conflicting lock and wait instead of attempting. */
	private boolean preCheck = DEFAULTS.preCheck();

	private final Monitor monitor = new Monitor();

	/** @throws IllegalArgumentException naming every refused property */
	public GateSettings toSettings() {
		return GateSettings.builder().lockTimeout(lockTimeout).statementTimeout(statementTimeout)
				.maxVictimWait(maxVictimWait).backoffInitial(backoff.initial).backoffMax(backoff.max)
				.backoffMultiplier(backoff.multiplier).maxAttempts(maxAttempts).deadline(deadline).preCheck(preCheck)
				.monitorUrl(monitor.url).monitorTarget(monitor.target).monitorToken(monitor.token).build();
	}

	public boolean isEnabled() {
		return enabled;
	}

	public void setEnabled(boolean enabled) {
		this.enabled = enabled;
	}

	public Duration getLockTimeout() {
		return lockTimeout;
	}

	public void setLockTimeout(Duration lockTimeout) {
		this.lockTimeout = lockTimeout;
	}

	public Duration getStatementTimeout() {
		return statementTimeout;
	}

	public void setStatementTimeout(Duration statementTimeout) {
		this.statementTimeout = statementTimeout;
	}

	public Duration getMaxVictimWait() {
		return maxVictimWait;
	}

	public void setMaxVictimWait(Duration maxVictimWait) {
		this.maxVictimWait = maxVictimWait;
	}

	public Backoff getBackoff() {
		return backoff;
	}

	public int getMaxAttempts() {
		return maxAttempts;
	}

	public void setMaxAttempts(int maxAttempts) {
		this.maxAttempts = maxAttempts;
	}

	public Duration getDeadline() {
		return deadline;
	}

	public void setDeadline(Duration deadline) {
		this.deadline = deadline;
	}

	public boolean isPreCheck() {
		return preCheck;
	}

	public void setPreCheck(boolean preCheck) {
		this.preCheck = preCheck;
	}

	public Monitor getMonitor() {
		return monitor;
	}

	/** {@code backoff.*}: the sleep before a retry is uniform in [0, min(max, initial * multiplier^k)]. */
	public static class Backoff {

		private Duration initial = DEFAULTS.backoffInitial();

		private Duration max = DEFAULTS.backoffMax();

		private double multiplier = DEFAULTS.backoffMultiplier();

		public Duration getInitial() {
			return initial;
		}

		public void setInitial(Duration initial) {
			this.initial = initial;
		}

		public Duration getMax() {
			return max;
		}

		public void setMax(Duration max) {
			this.max = max;
		}

		public double getMultiplier() {
			return multiplier;
		}

		public void setMultiplier(double multiplier) {
			this.multiplier = multiplier;
		}

	}

	/** {@code monitor.*}: ask a pg-lockwatch service's preflight before each attempt. */
	public static class Monitor {

		/** The service's base URL, e.g. https://pglockwatch.example.com; empty for none. */
		private String url = "";

		/** The service's name for this database (its target). */
		private String target = "";

		/** A bearer token of the service (pglockwatch.security.api-tokens), role viewer. */
		private String token = "";

		public String getUrl() {
			return url;
		}

		public void setUrl(String url) {
			this.url = url;
		}

		public String getTarget() {
			return target;
		}

		public void setTarget(String target) {
			this.target = target;
		}

		public String getToken() {
			return token;
		}

		public void setToken(String token) {
			this.token = token;
		}

	}

}
