package io.pglockwatch.poll;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.pglockwatch.sql.QueryTextMode;
import jakarta.validation.Valid;
import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import org.hibernate.validator.constraints.time.DurationMin;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.ConstructorBinding;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The PostgreSQL servers to watch and how much of their query text leaves the service ({@code pglockwatch.targets},
 * {@code pglockwatch.query-text}). The other sections under {@code pglockwatch} belong to their features; a key
 * under {@code pglockwatch} that no feature knows stops startup ({@link ConfigurationCheck}).
 *
 * @param targets the PostgreSQL servers to watch; at least one
 * @param queryText how much query text leaves the service (API, dashboard, alerts, logs)
 */
@Validated
@ConfigurationProperties(prefix = "pglockwatch")
public record TargetsProperties(@NotEmpty(message = NO_TARGET) List<@Valid Target> targets,
		@NotNull @DefaultValue("redacted") QueryTextMode queryText) {

	static final String NO_TARGET = "no target configured. Set pglockwatch.targets[0].name and "
			+ "pglockwatch.targets[0].url (environment: PGLOCKWATCH_TARGETS_0_NAME, PGLOCKWATCH_TARGETS_0_URL, "
			+ "PGLOCKWATCH_TARGETS_0_USERNAME, PGLOCKWATCH_TARGETS_0_PASSWORD); see docs/configuration.md. "
			+ "To try pg-lockwatch on an embedded PostgreSQL with a demo workload, run: mvn spring-boot:test-run";

	private static final String NOT_NEGATIVE = "must not be negative";

	private static final String AT_LEAST_ONE = "must be at least 1";

	public TargetsProperties {
		targets = (targets == null) ? List.of() : List.copyOf(targets);
	}

	/** Names must be unique: they are the {@code target} label of every metric. */
	@AssertTrue(message = "target names must be unique (pglockwatch.targets[*].name)")
	boolean isTargetNamesUnique() {
		Set<String> seen = new HashSet<>();
		return this.targets.stream().map(Target::name).filter((name) -> name != null).allMatch(seen::add);
	}

	/** A target's {@code primary} names another configured target. */
	@AssertTrue(message = "pglockwatch.targets[*].primary must name another configured target (the standby's primary)")
	boolean isPrimaryATarget() {
		Set<String> names = new HashSet<>();
		this.targets.forEach((t) -> names.add(t.name()));
		return this.targets.stream()
			.allMatch((t) -> t.primary() == null || (!t.primary().equals(t.name()) && names.contains(t.primary())));
	}

	/** The target of that name, or null. */
	public Target target(String name) {
		return this.targets.stream().filter((t) -> t.name().equals(name)).findFirst().orElse(null);
	}

	/** The names of all targets, in configuration order. */
	public List<String> names() {
		return this.targets.stream().map(Target::name).toList();
	}

	/**
	 * A PostgreSQL server to watch.
	 *
	 * @param name {@code [a-z0-9-]{1,40}}, unique; the {@code target} label of its metrics
	 * @param url {@code jdbc:postgresql://host:port/database}; other databases on the same server are
	 * watched too (pg_locks covers the whole server)
	 * @param username a role with {@code pg_monitor} (and {@code pg_signal_backend} for the guard)
	 * @param password the role's password; never logged
	 * @param detection this target's overrides of {@code pglockwatch.detection.*}
	 */
	public record Target(
			@NotNull(message = "must be set") @Pattern(regexp = "[a-z0-9-]{1,40}", message = "must match [a-z0-9-]{1,40}") String name,
			@NotNull(message = "must be set") @PostgresUrl String url,
			String username, String password, @Valid DetectionOverride detection, @Valid PollOverride poll,
			@Pattern(regexp = "[a-z0-9-]{1,40}", message = "must be the name of another target") String primary) {

		@ConstructorBinding
		public Target {
		}

		/** A target with no override of {@code pglockwatch.poll.*} and no primary. */
		public Target(String name, String url, String username, String password, DetectionOverride detection) {
			this(name, url, username, password, detection, null, null);
		}

		/** Its burst interval: its own {@code poll.burst-interval}, else {@code pglockwatch.poll.burst-interval}. */
		public Duration burstInterval(PollProperties global) {
			return (this.poll != null && this.poll.burstInterval() != null) ? this.poll.burstInterval()
					: global.burstInterval();
		}

		@Override
		public String toString() {
			return "Target[name=" + this.name + ", url=" + this.url + ", username=" + this.username + ", password="
					+ (this.password == null ? "null" : "******") + ", detection=" + this.detection + ", poll="
					+ this.poll + ", primary=" + this.primary + "]";
		}

	}

	/**
	 * Per-target overrides of {@code pglockwatch.poll.*}: unset keys inherit the global value.
	 *
	 * @param burstInterval override of {@code pglockwatch.poll.burst-interval}; {@code 0} turns bursts off for this
	 * target
	 */
	public record PollOverride(@DurationMin(millis = 0, message = NOT_NEGATIVE) Duration burstInterval) {
	}

	/**
	 * Per-target overrides of {@code pglockwatch.detection.*}: every key optional, unset keys inherit the global
	 * value.
	 *
	 * @param ddlQueue overrides of {@code pglockwatch.detection.ddl-queue.*}
	 * @param blockingChain overrides of {@code pglockwatch.detection.blocking-chain.*}
	 * @param idleBlocker overrides of {@code pglockwatch.detection.idle-blocker.*}
	 * @param resolveAfter override of {@code pglockwatch.detection.resolve-after}
	 */
	public record DetectionOverride(@Valid DdlQueueOverride ddlQueue, @Valid BlockingChainOverride blockingChain,
			@Valid IdleBlockerOverride idleBlocker,
			@DurationMin(millis = 0, message = NOT_NEGATIVE) Duration resolveAfter) {

		/**
		 * @param minQueued sessions queued behind the waiting DDL
		 * @param minWait how long the DDL itself has waited for its lock
		 * @param criticalQueued escalate to critical at this queue depth
		 * @param criticalWait escalate to critical after this wait
		 * @param gateGrace a DDL run by the pg-lockwatch gate opens an incident only once it has waited this long
		 */
		public record DdlQueueOverride(@Min(value = 1, message = AT_LEAST_ONE) Integer minQueued,
				@DurationMin(millis = 0, message = NOT_NEGATIVE) Duration minWait,
				@Min(value = 1, message = AT_LEAST_ONE) Integer criticalQueued,
				@DurationMin(millis = 0, message = NOT_NEGATIVE) Duration criticalWait,
				@DurationMin(millis = 0, message = NOT_NEGATIVE) Duration gateGrace) {
		}

		/**
		 * @param minBlocked sessions behind one root blocker
		 * @param minWait how long the longest of them has waited
		 */
		public record BlockingChainOverride(@Min(value = 1, message = AT_LEAST_ONE) Integer minBlocked,
				@DurationMin(millis = 0, message = NOT_NEGATIVE) Duration minWait) {
		}

		/** @param minIdle how long the root blocker has been idle in its transaction while blocking */
		public record IdleBlockerOverride(@DurationMin(millis = 0, message = NOT_NEGATIVE) Duration minIdle) {
		}

	}

}
