package io.pglockwatch.poll;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.pglockwatch.detect.Thresholds;
import io.pglockwatch.sql.QueryTextMode;
import jakarta.validation.Valid;
import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import org.hibernate.validator.constraints.time.DurationMin;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Everything under {@code pglockwatch.*}. Binding is strict: an unknown key under {@code pglockwatch} stops
 * startup, so a typo cannot silently leave a default in place.
 *
 * @param poll how and how often targets are read
 * @param targets the PostgreSQL servers to watch; at least one
 * @param queryText how much query text leaves the service (API, dashboard, alerts, logs)
 * @param detection when a lock situation becomes an incident
 * @param incidents how long incident history is kept
 * @param alerts where incidents are sent
 * @param security who may see the dashboard and the API
 * @param guard opt-in remediation of a DDL lock queue
 */
@Validated
@ConfigurationProperties(prefix = "pglockwatch", ignoreUnknownFields = false)
public record PgLockwatchProperties(@Valid @DefaultValue Poll poll,
		@NotEmpty(message = NO_TARGET) List<@Valid Target> targets,
		@NotNull @DefaultValue("redacted") QueryTextMode queryText, @Valid @DefaultValue Detection detection,
		@Valid @DefaultValue Incidents incidents, @Valid @DefaultValue Alerts alerts,
		@Valid @DefaultValue Security security, @Valid @DefaultValue Guard guard) {

	static final String NOT_NEGATIVE = "must not be negative";

	static final String AT_LEAST_ONE = "must be at least 1";

	static final String NO_TARGET = "no target configured. Set pglockwatch.targets[0].name and "
			+ "pglockwatch.targets[0].url (environment: PGLOCKWATCH_TARGETS_0_NAME, PGLOCKWATCH_TARGETS_0_URL, "
			+ "PGLOCKWATCH_TARGETS_0_USERNAME, PGLOCKWATCH_TARGETS_0_PASSWORD); see docs/configuration.md. "
			+ "To try pg-lockwatch on an embedded PostgreSQL with a demo workload, run: mvn spring-boot:test-run";

	public PgLockwatchProperties {
		targets = (targets == null) ? List.of() : List.copyOf(targets);
	}

	/** Names must be unique: they are the {@code target} label of every metric. */
	@AssertTrue(message = "target names must be unique (pglockwatch.targets[*].name)")
	boolean isTargetNamesUnique() {
		Set<String> seen = new HashSet<>();
		return this.targets.stream().map(Target::name).filter((name) -> name != null).allMatch(seen::add);
	}

	/** The statement timeout must leave room before the deadline, or a slow read would always time out. */
	@AssertTrue(message = "pglockwatch.poll.statement-timeout must not be longer than pglockwatch.poll.interval "
			+ "x pglockwatch.poll.deadline")
	boolean isStatementTimeoutWithinDeadline() {
		return this.poll == null || this.poll.statementTimeout() == null || this.poll.interval() == null
				|| this.poll.statementTimeout().compareTo(this.poll.deadlineDuration()) <= 0;
	}

	public Target target(String name) {
		return this.targets.stream().filter((t) -> t.name().equals(name)).findFirst().orElse(null);
	}

	/**
	 * @param interval time between the starts of two polls of one target; polls of one target never overlap
	 * @param statementTimeout {@code statement_timeout} of the monitor's own sessions
	 * @param lockTimeout {@code lock_timeout} of the monitor's own sessions, so it never queues behind a DDL
	 * @param deadline a poll still running after this many intervals has failed with reason {@code timeout}
	 * @param connectTimeout TCP connect and login timeout for a target
	 */
	public record Poll(@NotNull @DurationMin(millis = 100, message = "must be at least 100ms") @DefaultValue("1s") Duration interval,
			@NotNull @DurationMin(millis = 1, message = "must be positive") @DefaultValue("2s") Duration statementTimeout,
			@NotNull @DurationMin(millis = 1, message = "must be positive") @DefaultValue("100ms") Duration lockTimeout,
			@Min(value = 1, message = "must be at least 1") @Max(value = 100, message = "must be at most 100") @DefaultValue("2") int deadline,
			@NotNull @DurationMin(seconds = 1, message = "must be at least 1s") @DefaultValue("5s") Duration connectTimeout) {

		public Duration deadlineDuration() {
			return this.interval.multipliedBy(this.deadline);
		}

	}

	/**
	 * A PostgreSQL server to watch.
	 *
	 * @param name {@code [a-z0-9-]{1,40}}, unique; the {@code target} label of its metrics
	 * @param url {@code jdbc:postgresql://host:port/database}; other databases on the same server are
	 * watched too (pg_locks covers the whole server)
	 * @param username a role with {@code pg_monitor} (and {@code pg_signal_backend} for the guard)
	 * @param password the role's password; never logged
	 */
	public record Target(
			@NotNull(message = "must be set") @Pattern(regexp = "[a-z0-9-]{1,40}", message = "must match [a-z0-9-]{1,40}") String name,
			@NotNull(message = "must be set") @Pattern(regexp = "jdbc:postgresql://[^/?#]+/[^?#]+(\\?.*)?",
					message = "must look like jdbc:postgresql://host:5432/database") String url,
			String username, String password, @Valid DetectionOverride detection) {

		@Override
		public String toString() {
			return "Target[name=" + this.name + ", url=" + this.url + ", username=" + this.username + ", password="
					+ (this.password == null ? "null" : "******") + ", detection=" + this.detection + "]";
		}

	}


	/**
	 * When a lock situation becomes an incident.
	 *
	 * @param ddlQueue a DDL waiting for a strong relation lock with sessions queued behind it
	 * @param blockingChain any root blocker with many sessions behind it (row locks, advisory locks...)
	 * @param idleBlocker a root blocker idle in a transaction
	 * @param resolveAfter the condition must be gone this long before an incident resolves, so a migration
	 * that retries with lock_timeout is one incident, not one per try
	 */
	public record Detection(@Valid @DefaultValue DdlQueue ddlQueue, @Valid @DefaultValue BlockingChain blockingChain,
			@Valid @DefaultValue IdleBlocker idleBlocker,
			@NotNull @DurationMin(millis = 0, message = NOT_NEGATIVE) @DefaultValue("10s") Duration resolveAfter) {

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
							or(o.criticalQueued(), d.criticalQueued()), or(o.criticalWait(), d.criticalWait()));
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
			return new Thresholds(new Thresholds.DdlQueue(d.minQueued(), d.minWait(), d.criticalQueued(), d.criticalWait()),
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
		 */
		public record DdlQueue(@Min(value = 1, message = AT_LEAST_ONE) @DefaultValue("3") int minQueued,
				@NotNull @DurationMin(millis = 0, message = NOT_NEGATIVE) @DefaultValue("2s") Duration minWait,
				@Min(value = 1, message = AT_LEAST_ONE) @DefaultValue("20") int criticalQueued,
				@NotNull @DurationMin(millis = 0, message = NOT_NEGATIVE) @DefaultValue("30s") Duration criticalWait) {
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

	/** Per-target overrides of {@link Detection}: every key optional, unset keys inherit the global value. */
	public record DetectionOverride(@Valid DdlQueueOverride ddlQueue, @Valid BlockingChainOverride blockingChain,
			@Valid IdleBlockerOverride idleBlocker,
			@DurationMin(millis = 0, message = NOT_NEGATIVE) Duration resolveAfter) {

		/** See {@link Detection.DdlQueue}. */
		public record DdlQueueOverride(@Min(value = 1, message = AT_LEAST_ONE) Integer minQueued,
				@DurationMin(millis = 0, message = NOT_NEGATIVE) Duration minWait,
				@Min(value = 1, message = AT_LEAST_ONE) Integer criticalQueued,
				@DurationMin(millis = 0, message = NOT_NEGATIVE) Duration criticalWait) {
		}

		/** See {@link Detection.BlockingChain}. */
		public record BlockingChainOverride(@Min(value = 1, message = AT_LEAST_ONE) Integer minBlocked,
				@DurationMin(millis = 0, message = NOT_NEGATIVE) Duration minWait) {
		}

		/** See {@link Detection.IdleBlocker}. */
		public record IdleBlockerOverride(@DurationMin(millis = 0, message = NOT_NEGATIVE) Duration minIdle) {
		}

	}

	/**
	 * Incident history kept in the store ({@code spring.datasource.*}), pruned in the background.
	 *
	 * @param maxAge resolved incidents older than this are deleted
	 * @param maxCount at most this many incidents are kept; the oldest resolved go first
	 * @param pruneInterval how often pruning runs
	 */
	public record Incidents(
			@NotNull @DurationMin(hours = 1, message = "must be at least 1h") @DefaultValue("30d") Duration maxAge,
			@Min(value = 1, message = AT_LEAST_ONE) @DefaultValue("10000") int maxCount,
			@NotNull @DurationMin(seconds = 1, message = "must be at least 1s") @DefaultValue("1h") Duration pruneInterval) {
	}


	/**
	 * Alert channels. A channel with an empty URL / routing key is off.
	 *
	 * @param pagerduty PagerDuty Events API v2
	 * @param webhook a generic JSON webhook
	 * @param dashboardUrl public URL of the dashboard, for the links in alerts; required when a channel is on
	 * @param delivery timeouts, retries and rate of the sender
	 */
	public record Alerts(@Valid @DefaultValue PagerDuty pagerduty, @Valid @DefaultValue Webhook webhook,
			@Pattern(regexp = "(https?://.+)?", message = "must be an http(s) URL") @DefaultValue("") String dashboardUrl,
			@Valid @DefaultValue Delivery delivery) {

		@AssertTrue(message = "pglockwatch.alerts.dashboard-url must be set when an alert channel is on: alerts link to "
				+ "the incident page")
		boolean isDashboardUrlSetWhenAChannelIsOn() {
			boolean anyChannel = this.pagerduty.enabled() || this.webhook.enabled();
			return !anyChannel || (this.dashboardUrl != null && !this.dashboardUrl.isBlank());
		}

		/**
		 * @param routingKey the integration key of a PagerDuty service (Events API v2); empty = channel off. A
		 * secret: never logged, stored or shown
		 * @param url the Events API v2 endpoint
		 */
		public record PagerDuty(@DefaultValue("") String routingKey,
				@NotNull @Pattern(regexp = "https?://.+", message = "must be an http(s) URL") @DefaultValue("https://events.pagerduty.com/v2/enqueue") String url) {

			public boolean enabled() {
				return this.routingKey != null && !this.routingKey.isBlank();
			}

			@Override
			public String toString() {
				return "PagerDuty[routingKey=" + (enabled() ? "******" : "") + ", url=" + this.url + "]";
			}

		}

		/** @param url where {@code {event, incident}} JSON is posted; empty = channel off */
		public record Webhook(@Pattern(regexp = "(https?://.+)?", message = "must be an http(s) URL") @DefaultValue("") String url) {

			public boolean enabled() {
				return this.url != null && !this.url.isBlank();
			}

		}

		/**
		 * @param requestTimeout connect and response timeout of one delivery attempt
		 * @param initialBackoff wait before the first retry of a failed attempt; doubles per attempt, with jitter
		 * @param maxBackoff the longest wait between two attempts
		 * @param rateLimitedBackoff the wait after a 429 when the response names none (Retry-After)
		 * @param maxEventsPerMinute events per minute per channel; PagerDuty allows about 120 per routing key
		 */
		public record Delivery(
				@NotNull @DurationMin(millis = 100, message = "must be at least 100ms") @DefaultValue("10s") Duration requestTimeout,
				@NotNull @DurationMin(millis = 10, message = "must be at least 10ms") @DefaultValue("1s") Duration initialBackoff,
				@NotNull @DurationMin(millis = 10, message = "must be at least 10ms") @DefaultValue("5m") Duration maxBackoff,
				@NotNull @DurationMin(millis = 10, message = "must be at least 10ms") @DefaultValue("30s") Duration rateLimitedBackoff,
				@Min(value = 1, message = AT_LEAST_ONE) @DefaultValue("120") int maxEventsPerMinute) {
		}

	}


	/**
	 * Login to the dashboard and the JSON API. Health and Prometheus endpoints stay open for probes and scrapers.
	 *
	 * @param loginRequired when false, everyone may see and do everything (the demo does this, and says so)
	 * @param users who may log in; at least one while login is required
	 * @param apiTokens bearer tokens for pipelines calling the JSON API
	 */
	public record Security(@DefaultValue("true") boolean loginRequired, List<@Valid User> users,
			List<@Valid ApiToken> apiTokens) {

		public Security {
			users = (users == null) ? List.of() : List.copyOf(users);
			apiTokens = (apiTokens == null) ? List.of() : List.copyOf(apiTokens);
		}

		/**
		 * A bearer token for pipelines calling the JSON API ({@code Authorization: Bearer <token>}), e.g. preflight
		 * from a deploy job. Only the token's SHA-256 is configured: a random token of 32+ bytes needs no slow hash.
		 *
		 * @param name who uses it, for the logs
		 * @param sha256 hex SHA-256 of the token ({@code printf %s "$TOKEN" | sha256sum})
		 * @param role viewer or operator
		 */
		public record ApiToken(@NotNull(message = "must be set") @Pattern(regexp = "[A-Za-z0-9._@-]{1,64}", message = "must be 1-64 letters, digits or ._@-") String name,
				@NotNull(message = "must be set") @Pattern(regexp = "[0-9a-fA-F]{64}", message = "must be the 64 hex digits of the token's SHA-256, not the token") String sha256,
				@NotNull(message = "must be viewer or operator") Role role) {

			@Override
			public String toString() {
				return "ApiToken[name=" + this.name + ", role=" + this.role + "]";
			}

		}

		@AssertTrue(message = "pglockwatch.security.users must name at least one user while "
				+ "pglockwatch.security.login-required is true (see docs/configuration.md#login)")
		boolean isUsersConfiguredWhenLoginRequired() {
			return !this.loginRequired || !this.users.isEmpty();
		}

		/**
		 * @param name the login name
		 * @param passwordHash a bcrypt hash of the password ({@code $2a$10$...}), never the password itself
		 * @param role viewer (read) or operator (read, and act: cancel a queued DDL)
		 */
		public record User(@NotNull(message = "must be set") @Pattern(regexp = "[A-Za-z0-9._@-]{1,64}", message = "must be 1-64 letters, digits or ._@-") String name,
				@NotNull(message = "must be set") @Pattern(regexp = "\\$2[aby]?\\$\\d{2}\\$[./A-Za-z0-9]{53}", message = "must be a bcrypt hash such as $2a$10$..., not a password") String passwordHash,
				@NotNull(message = "must be viewer or operator") Role role) {

			@Override
			public String toString() {
				return "User[name=" + this.name + ", role=" + this.role + "]";
			}

		}

		/** What a user may do. */
		public enum Role {

			/** See the dashboard, incidents and the API. */
			VIEWER,

			/** Also act: cancel a queued DDL from the dashboard. */
			OPERATOR

		}

	}


	/**
	 * The guard: cancels a DDL that keeps a queue behind it (a lock_timeout for migrations that forgot one) and,
	 * if asked, ends an idle-in-transaction root blocker. Off unless turned on.
	 *
	 * @param mode off, dry-run (decide, record and count, but do nothing) or enforce
	 * @param cancelDdlAfter cancel a DDL that has kept at least {@code min-queued} sessions queued this long,
	 * counted from when the queue first reached {@code min-queued}
	 * @param terminateIdleBlockersAfter end an idle-in-transaction root blocker that has blocked others this long;
	 * 0 = never
	 * @param excludeApplications application_name values the guard never acts on
	 * @param excludeUsers roles the guard never acts on
	 */
	public record Guard(@NotNull @DefaultValue("off") GuardMode mode,
			@NotNull @DurationMin(millis = 0, message = NOT_NEGATIVE) @DefaultValue("10s") Duration cancelDdlAfter,
			@NotNull @DurationMin(millis = 0, message = NOT_NEGATIVE) @DefaultValue("0s") Duration terminateIdleBlockersAfter,
			List<String> excludeApplications, List<String> excludeUsers) {

		public Guard {
			excludeApplications = (excludeApplications == null) ? List.of() : List.copyOf(excludeApplications);
			excludeUsers = (excludeUsers == null) ? List.of() : List.copyOf(excludeUsers);
		}

		/** What the guard does with its decisions. */
		public enum GuardMode {

			/** Nothing is decided. */
			OFF,

			/** Decisions are logged, counted and recorded, nothing is done. */
			DRY_RUN,

			/** Decisions are carried out. */
			ENFORCE;

			/** As configured and shown: {@code off}, {@code dry-run}, {@code enforce}. */
			public String label() {
				return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
			}

		}

	}

}
