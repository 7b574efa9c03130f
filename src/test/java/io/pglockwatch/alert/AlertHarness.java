package io.pglockwatch.alert;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pglockwatch.detect.DdlFacts;
import io.pglockwatch.detect.Detector;
import io.pglockwatch.cluster.Fence;
import io.pglockwatch.cluster.TestClusters;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.IncidentEvent;
import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.detect.IncidentState;
import io.pglockwatch.detect.SessionFacts;
import io.pglockwatch.detect.Severity;
import io.pglockwatch.detect.TimelinePoint;
import io.pglockwatch.incident.IncidentStore;
import io.pglockwatch.incident.StoreWriter;
import io.pglockwatch.lock.LockMode;
import io.pglockwatch.testsupport.ShiftableClock;
import org.flywaydb.core.Flyway;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;
import org.springframework.web.client.RestClient;

/**
 * The alert path wired as {@link AlertConfiguration} wires it (outbox, payloads, enqueuer, sender), on an H2
 * database migrated with the service's own Flyway scripts, with the short delivery settings tests need and
 * the sender's meters on a {@link SimpleMeterRegistry}. Incident events are published the way the incident
 * recorder does: the incident is saved first, then the listener is told.
 */
final class AlertHarness implements AutoCloseable {

	/** 32 characters, like a real integration key; distinctive, so a leak is found by a plain search. */
	static final String ROUTING_KEY = "R0UTINGk3ySECRETe1b9c04d2f7a6358";

	static final String DASHBOARD_URL = "https://lockwatch.example.com/";

	static final Duration REQUEST_TIMEOUT = Duration.ofMillis(500);

	static final Duration INITIAL_BACKOFF = Duration.ofMillis(50);

	static final Duration MAX_BACKOFF = Duration.ofMillis(500);

	static final Duration RATE_LIMITED_BACKOFF = Duration.ofMillis(300);

	/** Generous: a loaded 2-core machine runs these tests too. */
	static final Duration PATIENCE = Duration.ofSeconds(20);

	final Settings settings;

	final AlertProperties alerts;

	final HikariDataSource dataSource;

	final JdbcClient jdbc;

	final IncidentStore incidents;

	final AlertOutbox outbox;

	final ThreadPoolTaskScheduler scheduler;

	final ThreadPoolTaskScheduler direct;

	final StoreWriter writes;

	final TestClusters.Running cluster;

	final AlertSender sender;

	final AlertEnqueuer enqueuer;

	final SimpleMeterRegistry meters = new SimpleMeterRegistry();

	final ShiftableClock clock = ShiftableClock.system();

	final JsonMapper json = JsonMapper.builder().build();

	private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

	private final Logger logger = (Logger) LoggerFactory.getLogger("io.pglockwatch");

	private AlertHarness(Settings settings) {
		this.settings = settings;
		this.alerts = settings.alerts();
		HikariConfig pool = new HikariConfig();
		pool.setJdbcUrl(settings.databaseUrl());
		pool.setUsername("sa");
		pool.setPassword("");
		pool.setMaximumPoolSize(4);
		this.dataSource = new HikariDataSource(pool);
		// what Spring Boot runs at startup with spring.flyway.locations=classpath:db/migration/{vendor}
		Flyway.configure().dataSource(this.dataSource).locations("classpath:db/migration/h2").load().migrate();
		this.jdbc = JdbcClient.create(this.dataSource);
		this.incidents = new IncidentStore(this.jdbc);
		this.writes = new StoreWriter(StoreWriter.DEFAULT_LIMIT, this.clock);
		this.cluster = TestClusters.alone(this.dataSource);
		this.outbox = new AlertOutbox(this.jdbc, this.writes, this.cluster.cluster());
		this.scheduler = AlertConfiguration.senderScheduler(this.alerts);
		this.scheduler.initialize();
		this.direct = AlertConfiguration.senderScheduler(this.alerts);
		this.direct.initialize();
		this.sender = new AlertSender(this.outbox, this.alerts, this.json, this.clock, RestClient.builder(),
				this.scheduler, this.direct, this.writes, this.cluster.cluster());
		this.sender.bindTo(this.meters);
		String dashboard = this.alerts.dashboardUrl();
		this.enqueuer = new AlertEnqueuer(this.outbox, new AlertPayloads(this.json, dashboard == null ? "" : dashboard), this.alerts, this.sender, this.clock,
				(incident) -> Map.of("mode", "dry-run", "actions", List.of()));
		this.logs.start();
		this.logger.addAppender(this.logs);
	}

	/** Migrated and wired, the sender not yet started. */
	static AlertHarness create(Settings settings) {
		return new AlertHarness(settings);
	}

	/** Migrated, wired and sending. */
	static AlertHarness start(Settings settings) {
		AlertHarness harness = new AlertHarness(settings);
		harness.sender.start();
		return harness;
	}

	/**
	 * What the incident recorder does for each event: store the incident, then tell the listeners; returns once the
	 * outbox rows are stored.
	 */
	void publish(IncidentEvent.Type type, Incident incident) {
		this.incidents.save(incident);
		TimelinePoint point = (type == IncidentEvent.Type.RESOLVED) ? null
				: new TimelinePoint(this.clock.instant(), incident.queueDepth(), incident.peakMaxWait());
		// the recorder hands over the newest peak graph it stored
		this.enqueuer.onIncidentEvent(new IncidentEvent(type, incident, point, null),
				this.incidents.peakGraph(incident.id()).orElse(null), fence(incident.target()));
		this.writes.flush(Duration.ofSeconds(10));
	}

	/** The fence this replica leads the target's shard with. */
	Fence fence(String target) {
		return this.cluster.cluster().fence(target);
	}

	List<OutboxEntry> rows(Incident incident) {
		return this.outbox.forIncident(incident.id());
	}

	List<OutboxEntry> allRows() {
		return this.jdbc.sql("SELECT incident_id FROM alert_outbox GROUP BY incident_id")
			.query(String.class)
			.list()
			.stream()
			.flatMap((id) -> this.outbox.forIncident(id).stream())
			.sorted((a, b) -> Long.compare(a.id(), b.id()))
			.toList();
	}

	double counter(AlertChannel channel, String action, String outcome) {
		return this.meters.get("pglockwatch.alert.events")
			.tag("channel", channel.label())
			.tag("action", action)
			.tag("outcome", outcome)
			.counter()
			.count();
	}

	double gauge(String name, AlertChannel channel) {
		return this.meters.get(name).tag("channel", channel.label()).gauge().value();
	}

	/** Everything logged under io.pglockwatch while this harness was open, with stack traces. */
	List<String> logLines() {
		synchronized (this.logs) { // ListAppender appends under this lock (AppenderBase.doAppend)
			List<String> lines = new ArrayList<>();
			for (ILoggingEvent event : this.logs.list) {
				String line = event.getLevel() + " " + event.getFormattedMessage();
				if (event.getThrowableProxy() != null) {
					line += "\n" + ThrowableProxyUtil.asString(event.getThrowableProxy());
				}
				lines.add(line);
			}
			return lines;
		}
	}

	@Override
	public void close() {
		try {
			this.sender.stop();
			// waits for a pass under way, as the context's shutdown of the scheduler bean does
			this.scheduler.shutdown();
			this.direct.shutdown();
			this.writes.shutdown();
			this.cluster.close();
		}
		finally {
			this.logger.detachAppender(this.logs);
			// the last connection of an H2 file database closes the file: like the end of the process
			this.dataSource.close();
		}
	}

	/**
	 * Delivery settings of one harness.
	 *
	 * @param databaseUrl an H2 URL: in memory per test, or a file to survive a restart
	 */
	record Settings(String routingKey, String pagerDutyUrl, String webhookUrl, int maxEventsPerMinute,
			String databaseUrl) {

		static final String PAGERDUTY_DEFAULT_URL = "https://events.pagerduty.com/v2/enqueue";

		/** PagerDuty on, webhook off. */
		static Settings pagerDuty(String url) {
			return new Settings(ROUTING_KEY, url, "", 120, memoryDatabase());
		}

		/** Webhook on, PagerDuty off. */
		static Settings webhook(String url) {
			return new Settings("", PAGERDUTY_DEFAULT_URL, url, 120, memoryDatabase());
		}

		static String memoryDatabase() {
			return "jdbc:h2:mem:alerts-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
		}

		/** A fresh H2 file under target/, kept when the harness closes. */
		static String fileDatabase() {
			return "jdbc:h2:file:" + Path.of("target", "alert-restart-" + UUID.randomUUID(), "pglockwatch").toAbsolutePath();
		}

		Settings withWebhook(String url) {
			return new Settings(this.routingKey, this.pagerDutyUrl, url, this.maxEventsPerMinute, this.databaseUrl);
		}

		Settings withMaxEventsPerMinute(int max) {
			return new Settings(this.routingKey, this.pagerDutyUrl, this.webhookUrl, max, this.databaseUrl);
		}

		Settings withDatabase(String url) {
			return new Settings(this.routingKey, this.pagerDutyUrl, this.webhookUrl, this.maxEventsPerMinute, url);
		}

		AlertProperties alerts() {
			return new AlertProperties(
					new AlertProperties.PagerDuty(this.routingKey, this.pagerDutyUrl),
					new AlertProperties.Webhook(this.webhookUrl), DASHBOARD_URL,
					new AlertProperties.Delivery(REQUEST_TIMEOUT, INITIAL_BACKOFF, MAX_BACKOFF,
							RATE_LIMITED_BACKOFF, this.maxEventsPerMinute));
		}

	}

	/** Incidents as the lifecycle makes them: opened, escalated, resolved; instants truncated as the store keeps them. */
	static final class Incidents {

		static final Instant BACKEND_START = Instant.parse("2026-11-23T11:00:00.123456Z");

		private Incidents() {
		}

		/**
		 * {@code orders: ALTER TABLE public.users waits for AccessExclusiveLock 42s; 37 sessions queued; root
		 * blocker pid 4100 idle in transaction 12m (app reporting)}, with pid {@code ddlPid} for the DDL.
		 */
		static Incident ddlQueue(String target, int ddlPid) {
			return ddlQueue(target, ddlPid, "public.users");
		}

		static Incident ddlQueue(String target, int ddlPid, String relation) {
			Instant opened = Instant.now().truncatedTo(ChronoUnit.MICROS);
			SessionFacts ddl = new SessionFacts(ddlPid, BACKEND_START, "active", "migrate", "deployer", "10.0.0.7", "app",
					opened.minusSeconds(42), Duration.ofSeconds(42), null,
					"ALTER TABLE " + relation + " ADD COLUMN flag boolean NOT NULL DEFAULT false", "ALTER TABLE", null);
			SessionFacts root = new SessionFacts(4100, BACKEND_START.minusSeconds(3600), "idle in transaction", "reporting",
					"analyst", "10.0.0.9", "app", opened.minusSeconds(900), Duration.ofMinutes(15), Duration.ofMinutes(12),
					"SELECT * FROM " + relation + " WHERE id = ?", "SELECT", null);
			String key = Detector.dedupKey(target, IncidentKind.DDL_LOCK_QUEUE, ddl);
			return new Incident(UUID.randomUUID().toString(), key, target, IncidentKind.DDL_LOCK_QUEUE, Severity.WARNING,
					IncidentState.OPEN, opened, null, null, opened,
					new DdlFacts(ddl, LockMode.ACCESS_EXCLUSIVE, relation, Duration.ofSeconds(42)), root, 37, 37,
					Duration.ofSeconds(45), "app");
		}

		/** A blocking chain: no DDL, so no relation (PagerDuty component) in the alert. */
		static Incident blockingChain(String target, int rootPid) {
			Instant opened = Instant.now().truncatedTo(ChronoUnit.MICROS);
			SessionFacts root = new SessionFacts(rootPid, BACKEND_START, "active", "batch", "etl", "10.0.0.5", "app",
					opened.minusSeconds(300), Duration.ofMinutes(5), null, "UPDATE accounts SET balance = balance + ?",
					"UPDATE", null);
			return new Incident(UUID.randomUUID().toString(),
					Detector.dedupKey(target, IncidentKind.BLOCKING_CHAIN, root), target, IncidentKind.BLOCKING_CHAIN,
					Severity.WARNING, IncidentState.OPEN, opened, null, null, opened, null, root, 6, 6,
					Duration.ofSeconds(31), "app");
		}

		static Incident escalated(Incident incident) {
			Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
			return new Incident(incident.id(), incident.dedupKey(), incident.target(), incident.kind(), Severity.CRITICAL,
					IncidentState.ESCALATED, incident.openedAt(), now, null, now, incident.ddl(), incident.rootBlocker(),
					incident.queueDepth(), Math.max(incident.peakQueueDepth(), 21), incident.peakMaxWait(),
					incident.database());
		}

		static Incident resolved(Incident incident) {
			Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
			return new Incident(incident.id(), incident.dedupKey(), incident.target(), incident.kind(),
					incident.severity(), IncidentState.RESOLVED, incident.openedAt(), incident.escalatedAt(), now,
					incident.lastSeenAt(), incident.ddl(), incident.rootBlocker(), 0, incident.peakQueueDepth(),
					incident.peakMaxWait(), incident.database());
		}

	}

}
