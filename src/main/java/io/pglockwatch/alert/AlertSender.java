package io.pglockwatch.alert;

import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.pglockwatch.alert.PagerDutyEvent.Routed;
import io.pglockwatch.cluster.Cluster;
import io.pglockwatch.cluster.Fence;
import io.pglockwatch.cluster.StaleEpochException;
import io.pglockwatch.incident.StoreWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import org.springframework.boot.http.client.ClientHttpRequestFactoryBuilder;
import org.springframework.boot.http.client.HttpClientSettings;
import org.springframework.boot.http.client.HttpRedirects;
import org.springframework.context.SmartLifecycle;
import org.springframework.dao.DataAccessException;
import org.springframework.http.MediaType;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.util.backoff.BackOffExecution;
import org.springframework.util.backoff.ExponentialBackOff;
import org.springframework.web.client.RestClient;

/**
 * Delivers the outbox at least once. One scheduler thread works through due events, oldest first and in order per
 * incident and channel (a resolve never overtakes its trigger). 2xx is accepted; 429 waits for Retry-After (or
 * {@code rate-limited-backoff}); 5xx, 408, timeouts and connection errors are retried with exponential backoff and
 * jitter; any other status (400: the event is invalid) is logged with the response body, counted and not retried.
 * Each channel sends at most {@code max-events-per-minute}. The PagerDuty routing key is added to the body only
 * here and is masked in every log line and stored error.
 *
 * <p>A second thread sends the events that wait in memory because the store does not take them ({@link
 * AlertOutbox#nextHeld}): at once while store writes fail, else once an event has waited {@link #HELD_GRACE} (a
 * store that hangs rather than fails). It never reads the store, so a page never waits for it. An event accepted
 * while its acceptance cannot be stored is remembered and marked when the store is back, never sent again.
 *
 * <p>Of several replicas, only the leader of an event's shard sends it: a stored event is claimed with the leader's
 * epoch first ({@link AlertOutbox#claim}), the leadership is checked again right before the request, and the outcome
 * is marked in a transaction fenced with the same epoch. An event a channel accepted and that was marked is never
 * sent again by anyone; the leader dying between the acceptance and the mark is the one case where the next leader
 * sends it again, with the same {@code eventId} (in the webhook's body and {@code Idempotency-Key} header, and in a
 * PagerDuty trigger's {@code custom_details}; PagerDuty also folds a repeated trigger or resolve by its dedup key).
 */
final class AlertSender implements SmartLifecycle, MeterBinder {

	private static final Logger logger = LoggerFactory.getLogger(AlertSender.class);

	private static final int BATCH = 50;

	private static final Duration TICK = Duration.ofMillis(200);

	/** The request header that carries the event's stable id, as many webhook receivers expect it. */
	static final String EVENT_ID_HEADER = "Idempotency-Key";

	/** How long an event may wait in memory for the store before it is sent from there. */
	static final Duration HELD_GRACE = Duration.ofSeconds(1);

	private static final int MAX_BODY_READ = 65536;

	private static final int MAX_BODY_KEPT = 4096;

	// the doubling reaches any max-backoff long before this: past it the wait stays at the cap
	private static final int MAX_DOUBLINGS = 64;

	private static final TypeReference<LinkedHashMap<String, JsonNode>> STORED_EVENT = new TypeReference<>() {
	};

	private final AlertOutbox outbox;

	/** The configured targets, whose events of led shards are read; null reads the events of every target. */
	private final List<String> targets;

	private final AlertProperties alerts;

	private final JsonMapper json;

	private final Clock clock;

	private final RestClient http;

	private final TaskScheduler scheduler;

	private final TaskScheduler direct;

	private final StoreWriter writes;

	private final Cluster cluster;

	// stored events a channel accepted whose acceptance the store did not take: marked, and never sent, again
	private final Map<Long, Accepted> unrecorded = new ConcurrentHashMap<>();

	private volatile boolean storeUnreadable;

	private final ExponentialBackOff backOff;

	private final Map<AlertChannel, Deque<Instant>> recentSends = new EnumMap<>(AlertChannel.class);

	private final Map<CounterKey, Counter> counters = new ConcurrentHashMap<>();

	private final Map<AlertChannel, AlertOutbox.Backlog> backlog = new ConcurrentHashMap<>();

	// after a 429 the whole channel waits: the limit is the routing key's, not the event's
	private final Map<AlertChannel, Instant> pausedUntil = new ConcurrentHashMap<>();

	private MeterRegistry registry;

	private ScheduledFuture<?> ticks;

	private ScheduledFuture<?> directTicks;

	private volatile boolean running;

	/**
	 * @param http Boot's builder, so delivery requests are observed as {@code http.client.requests}
	 * @param scheduler runs every pass over the store; one thread, so passes never overlap
	 * @param direct runs every pass over the events in memory; one thread, never the same as {@code scheduler}
	 */
	AlertSender(AlertOutbox outbox, AlertProperties alerts, JsonMapper json, Clock clock, RestClient.Builder http,
			TaskScheduler scheduler, TaskScheduler direct, StoreWriter writes, Cluster cluster) {
		this(outbox, alerts, json, clock, http, scheduler, direct, writes, cluster, null);
	}

	/** Sending the events of {@code targets} (null: of every target) whose shards this replica leads. */
	AlertSender(AlertOutbox outbox, AlertProperties alerts, JsonMapper json, Clock clock, RestClient.Builder http,
			TaskScheduler scheduler, TaskScheduler direct, StoreWriter writes, Cluster cluster, List<String> targets) {
		this.targets = (targets != null) ? List.copyOf(targets) : null;
		this.outbox = outbox;
		this.cluster = cluster;
		this.alerts = alerts;
		this.json = json;
		this.clock = clock;
		this.scheduler = scheduler;
		this.direct = direct;
		this.writes = writes;
		outbox.afterStore(() -> {
			if (this.running) {
				this.scheduler.schedule(this::drainQuietly, this.scheduler.getClock().instant());
			}
		});
		Duration timeout = alerts.delivery().requestTimeout();
		// a receiver that redirects a POST gets no second request, as with the JDK client's own default
		HttpClientSettings settings = HttpClientSettings.defaults()
			.withTimeouts(timeout, timeout)
			.withRedirects(HttpRedirects.DONT_FOLLOW);
		// HTTP/1.1 only: the JDK client's default HTTP/2 sends "Upgrade: h2c" on plain http, which some proxies and
		// receivers refuse or mishandle; one small POST at a time gains nothing from HTTP/2
		this.http = http.requestFactory(ClientHttpRequestFactoryBuilder.jdk()
			.withHttpClientCustomizer((client) -> client.version(HttpClient.Version.HTTP_1_1))
			.build(settings)).build();
		this.backOff = new ExponentialBackOff(alerts.delivery().initialBackoff().toMillis(), 2.0);
		this.backOff.setMaxInterval(alerts.delivery().maxBackoff().toMillis());
		// spreads retries of events that failed together; the first wait is never shorter than initial-backoff
		this.backOff.setJitter(alerts.delivery().initialBackoff().toMillis() / 2);
		for (AlertChannel channel : AlertChannel.values()) {
			this.recentSends.put(channel, new ArrayDeque<>());
		}
	}

	private boolean enabled(AlertChannel channel) {
		return (channel == AlertChannel.PAGERDUTY) ? this.alerts.pagerduty().enabled() : this.alerts.webhook().enabled();
	}

	/** Sends what is due now instead of at the next tick. */
	void wake() {
		if (this.running) {
			this.scheduler.schedule(this::drainQuietly, this.scheduler.getClock().instant());
			this.direct.schedule(this::sendHeldQuietly, this.direct.getClock().instant());
		}
	}

	private void drainQuietly() {
		if (!this.running) {
			return;
		}
		try {
			drain();
			if (this.storeUnreadable) {
				this.storeUnreadable = false;
				logger.info("Alert outbox readable again");
			}
		}
		catch (DataAccessException ex) {
			// the store may be down: its events stay in it, the next tick tries again, and new events are sent from
			// memory meanwhile; said once, not every tick
			if (!this.storeUnreadable) {
				this.storeUnreadable = true;
				logger.warn("Alert outbox not readable ({}); new alert events are sent from memory until it is",
						mask(ex.getMostSpecificCause().getMessage()));
			}
		}
		catch (RuntimeException ex) {
			logger.error("Alert outbox pass failed", ex);
		}
	}

	private void drain() {
		this.unrecorded.forEach((id, accepted) -> {
			mark(id, () -> this.outbox.markSent(id, accepted.status(), accepted.at(), accepted.fence()));
			this.unrecorded.remove(id);
		});
		// the events of the shards this replica leads, read once for all channels
		List<String> led = (this.targets != null)
				? this.targets.stream().filter((t) -> this.cluster.fence(t) != null).toList() : null;
		boolean orphans = this.cluster.fence(0) != null;
		// per channel, so a channel that is off, paused or over its rate never holds up another
		for (AlertChannel channel : AlertChannel.values()) {
			if (!enabled(channel) || paused(channel)) {
				continue;
			}
			for (OutboxEntry entry : this.outbox.due(channel, this.clock.instant(), BATCH, led, orphans)) {
				if (this.unrecorded.containsKey(entry.id())) {
					continue;
				}
				Fence fence = this.cluster.fence(shard(entry));
				if (fence == null || !claim(entry, fence)) {
					continue; // another replica leads the event's shard
				}
				if (!this.running || !withinRate(channel) || paused(channel)) {
					break;
				}
				if (this.cluster.holds(fence)) {
					send(entry, fence);
				}
			}
		}
		Map<AlertChannel, AlertOutbox.Backlog> stored = this.outbox.backlog();
		this.backlog.clear();
		this.backlog.putAll(stored);
	}

	/** A pass over the events in memory that the store has not taken; reads nothing from the store. */
	private void sendHeldQuietly() {
		if (!this.running) {
			return;
		}
		try {
			Instant now = this.clock.instant();
			Instant createdBefore = (this.writes.failure() != null) ? now.plusNanos(1) : now.minus(HELD_GRACE);
			for (AlertChannel channel : AlertChannel.values()) {
				while (this.running && enabled(channel) && !paused(channel) && hasRate(channel)) {
					OutboxEntry entry = this.outbox.nextHeld(channel, now, createdBefore);
					if (entry == null) {
						break;
					}
					withinRate(channel);
					send(entry, new Fence(shard(entry), entry.claimEpoch()));
				}
			}
		}
		catch (RuntimeException ex) {
			logger.error("Pass over alert events in memory failed", ex);
		}
	}

	private boolean paused(AlertChannel channel) {
		return this.clock.instant().isBefore(this.pausedUntil.getOrDefault(channel, Instant.MIN));
	}

	/** A sliding minute per channel, shared by both threads; counts the send it allows. */
	private boolean withinRate(AlertChannel channel) {
		synchronized (this.recentSends) {
			if (!hasRate(channel)) {
				return false;
			}
			this.recentSends.get(channel).addLast(this.clock.instant());
			return true;
		}
	}

	/** Whether the channel's sliding minute has room for one more send. */
	private boolean hasRate(AlertChannel channel) {
		synchronized (this.recentSends) {
			Deque<Instant> sends = this.recentSends.get(channel);
			Instant now = this.clock.instant();
			while (!sends.isEmpty() && sends.peekFirst().isBefore(now.minusSeconds(60))) {
				sends.pollFirst();
			}
			return sends.size() < this.alerts.delivery().maxEventsPerMinute();
		}
	}

	private int shard(OutboxEntry entry) {
		// an event stored before targets were recorded on events: its incident is gone, and shard 0 cleans it up
		return (entry.target() != null) ? this.cluster.shardOf(entry.target()) : 0;
	}

	/** Claims a stored event for this leader's attempt; false when it is not pending any more or not ours to send. */
	private boolean claim(OutboxEntry entry, Fence fence) {
		try {
			if (!this.outbox.claim(entry.id(), fence)) {
				return false;
			}
		}
		catch (StaleEpochException ex) {
			return false;
		}
		if (entry.claimEpoch() != null && entry.claimEpoch() < fence.epoch()) {
			logger.info("Alert {} {} for incident {} (event {}) was claimed by the leader of epoch {} and not marked: "
					+ "sending it again; the receiver may have it already", entry.action().label(), entry.dedupKey(),
					entry.incidentId(), entry.eventId(), entry.claimEpoch());
		}
		return true;
	}

	/** Records an attempt's outcome; one refused because another replica leads now is logged, not retried. */
	private void mark(long id, Runnable marking) {
		try {
			marking.run();
		}
		catch (StaleEpochException ex) {
			logger.warn("Outcome of alert event {} not recorded: {}", id, ex.getMessage());
		}
	}

	private void send(OutboxEntry entry, Fence fence) {
		String body;
		try {
			body = body(entry);
		}
		catch (JacksonException ex) {
			mark(entry.id(), () -> this.outbox.markFailed(entry.id(), null,
					"stored payload is not a JSON object: " + ex.getMessage(), fence));
			count(entry, Outcome.REJECTED);
			logger.error("Alert {} of incident {} has a corrupt payload; not sent", entry.id(), entry.incidentId());
			return;
		}
		Response response;
		try {
			response = this.http.post()
				.uri(url(entry.channel()))
				.contentType(MediaType.APPLICATION_JSON)
				.header(EVENT_ID_HEADER, entry.eventId())
				.body(body)
				.exchange((request, reply) -> new Response(reply.getStatusCode().value(),
						// mask before cutting, so no part of the key survives a cut
						cut(mask(new String(reply.getBody().readNBytes(MAX_BODY_READ), StandardCharsets.UTF_8))),
						seconds(reply.getHeaders().getFirst("Retry-After"))));
		}
		catch (RuntimeException ex) {
			retry(entry, null, describe(ex), backoff(entry.attempts()), fence);
			return;
		}
		int status = response.status();
		if (status >= 200 && status < 300) {
			Instant now = this.clock.instant();
			try {
				this.outbox.markSent(entry.id(), status, now, fence);
			}
			catch (StaleEpochException ex) {
				logger.warn("Alert {} {} for incident {} accepted by {}, but not recorded: {}; the leader now may send "
						+ "it again (event {})", entry.action().label(), entry.dedupKey(), entry.incidentId(),
						entry.channel().label(), ex.getMessage(), entry.eventId());
			}
			catch (DataAccessException ex) {
				// accepted, but the store went away since the event was read: mark it once it is back, and until
				// then never send it again
				this.unrecorded.put(entry.id(), new Accepted(status, now, fence));
			}
			count(entry, Outcome.SENT);
			logger.info("Alert {} {} for incident {} accepted by {} ({})", entry.action().label(), entry.dedupKey(),
					entry.incidentId(), entry.channel().label(), status);
		}
		else if (status == 429) {
			Duration wait = retryAfter(response);
			this.pausedUntil.put(entry.channel(), this.clock.instant().plus(wait));
			retry(entry, status, "rate limited: " + response.body(), wait, fence);
		}
		else if (status >= 500 || status == 408) {
			retry(entry, status, "HTTP " + status + ": " + response.body(), backoff(entry.attempts()), fence);
		}
		else {
			String error = "HTTP " + status + ": " + mask(response.body());
			mark(entry.id(), () -> this.outbox.markFailed(entry.id(), status, error, fence));
			count(entry, Outcome.REJECTED);
			logger.error("Alert {} {} for incident {} rejected by {}, not retried: {}", entry.action().label(),
					entry.dedupKey(), entry.incidentId(), entry.channel().label(), error);
		}
	}

	/**
	 * The stored body with the event's id (a webhook's {@code eventId}, a PagerDuty trigger's
	 * {@code custom_details.eventId}); for PagerDuty with the routing key, which is never stored.
	 */
	private String body(OutboxEntry entry) {
		Map<String, JsonNode> stored = this.json.readValue(entry.payload(), STORED_EVENT);
		if (entry.channel() != AlertChannel.PAGERDUTY) {
			stored.put("eventId", this.json.getNodeFactory().stringNode(entry.eventId()));
			return this.json.writeValueAsString(stored);
		}
		if (stored.get("payload") instanceof ObjectNode payload && payload.get("custom_details") instanceof ObjectNode details) {
			details.put("eventId", entry.eventId());
		}
		return this.json.writeValueAsString(new Routed(this.alerts.pagerduty().routingKey(), stored));
	}

	private String url(AlertChannel channel) {
		return (channel == AlertChannel.PAGERDUTY) ? this.alerts.pagerduty().url() : this.alerts.webhook().url();
	}

	private void retry(OutboxEntry entry, Integer status, String error, Duration wait, Fence fence) {
		String masked = mask(error);
		mark(entry.id(), () -> this.outbox.markRetry(entry.id(), status, masked, this.clock.instant().plus(wait), fence));
		count(entry, Outcome.RETRIED);
		logger.warn("Alert {} {} for incident {} to {} failed (attempt {}): {}; retrying in {} ms",
				entry.action().label(), entry.dedupKey(), entry.incidentId(), entry.channel().label(),
				entry.attempts() + 1, masked, wait.toMillis());
	}

	/**
	 * The wait after failed attempt number {@code attempts + 1}: initial-backoff doubled per earlier attempt, plus or
	 * minus jitter of up to half of it, never below initial-backoff nor above max-backoff.
	 */
	private Duration backoff(int attempts) {
		// the count lives in the outbox, across passes and restarts, so a fresh execution is stepped up to it
		BackOffExecution execution = this.backOff.start();
		long wait = execution.nextBackOff();
		for (int i = Math.min(attempts, MAX_DOUBLINGS); i > 0; i--) {
			wait = execution.nextBackOff();
		}
		return Duration.ofMillis(wait);
	}

	private Duration retryAfter(Response response) {
		Duration wait = response.retryAfter() != null ? response.retryAfter() : this.alerts.delivery().rateLimitedBackoff();
		Duration max = this.alerts.delivery().maxBackoff();
		return wait.compareTo(max) > 0 ? max : wait; // a resolve must not wait a day on a careless Retry-After
	}

	private static String cut(String body) {
		return body.length() <= MAX_BODY_KEPT ? body : body.substring(0, MAX_BODY_KEPT) + "…";
	}

	private String mask(String text) {
		String key = this.alerts.pagerduty().routingKey();
		if (text == null || key == null || key.isBlank()) {
			return text;
		}
		return text.replace(key, "******");
	}

	/** Every cause's class and message: "ResourceAccessException: I/O error ... <- ConnectException: refused". */
	private String describe(Throwable ex) {
		StringBuilder text = new StringBuilder();
		for (Throwable t = ex; t != null && text.length() < 1500; t = t.getCause()) {
			if (!text.isEmpty()) {
				text.append(" <- ");
			}
			text.append(t.getClass().getSimpleName());
			if (t.getMessage() != null) {
				text.append(": ").append(t.getMessage());
			}
		}
		return mask(text.toString());
	}

	private void count(OutboxEntry entry, Outcome outcome) {
		counter(entry.action(), outcome).increment();
	}

	private Counter counter(AlertAction action, Outcome outcome) {
		return this.counters.computeIfAbsent(new CounterKey(action, outcome),
				(key) -> Counter.builder("pglockwatch.alert.events")
					.description("Alert events by channel, action and outcome: sent (accepted), retried (a failed "
							+ "attempt that will be repeated), rejected (refused for good, e.g. HTTP 400)")
					.tag("channel", action.channel().label())
					.tag("action", action.label())
					.tag("outcome", outcome.label())
					.register(this.registry));
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		this.registry = registry;
		for (AlertChannel channel : AlertChannel.values()) {
			FunctionCounter.builder("pglockwatch.alert.outbox.dropped", this.outbox, (o) -> o.heldDropped(channel))
				.description("Alert events forgotten because the limit of events waiting in memory for the store was "
						+ "reached")
				.tag("channel", channel.label())
				.register(registry);
			// backlog gauges for every channel: events of a channel turned off stay visible
			if (enabled(channel)) {
				for (AlertAction action : AlertAction.of(channel)) {
					for (Outcome outcome : Outcome.values()) {
						counter(action, outcome);
					}
				}
			}
			Gauge.builder("pglockwatch.alert.outbox.pending", this.backlog, (b) -> waiting(b, channel).pending())
				.description("Alert events not yet accepted by the channel, in the store or waiting in memory for it")
				.tag("channel", channel.label())
				.register(registry);
			Gauge.builder("pglockwatch.alert.outbox.oldest.age", this.backlog, (b) -> {
				Instant oldest = waiting(b, channel).oldest();
				return (oldest == null) ? 0 : Duration.between(oldest, this.clock.instant()).toMillis() / 1000.0;
			})
				.description("Age of the oldest alert event not yet accepted by the channel; 0 when none is pending")
				.tag("channel", channel.label())
				.baseUnit("seconds")
				.register(registry);
		}
	}

	@Override
	public void start() {
		this.running = true;
		// pending events of an earlier run go out first
		this.ticks = this.scheduler.scheduleWithFixedDelay(this::drainQuietly, TICK);
		this.directTicks = this.direct.scheduleWithFixedDelay(this::sendHeldQuietly, TICK);
	}

	/**
	 * Stops the ticks; a pass under way ends after its current request, and the scheduler's shutdown waits for it.
	 */
	@Override
	public void stop() {
		this.running = false;
		if (this.ticks != null) {
			this.ticks.cancel(false);
			this.directTicks.cancel(false);
		}
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	private static Duration seconds(String retryAfter) {
		if (retryAfter == null) {
			return null;
		}
		try {
			return Duration.ofSeconds(Math.max(0, Long.parseLong(retryAfter.trim())));
		}
		catch (NumberFormatException ex) {
			return null; // an HTTP date: use the configured wait instead
		}
	}

	/** What a delivery attempt came to, as counted. */
	private enum Outcome {

		SENT, RETRIED, REJECTED;

		String label() {
			return name().toLowerCase(Locale.ROOT);
		}

	}

	private record CounterKey(AlertAction action, Outcome outcome) {
	}

	private record Response(int status, String body, Duration retryAfter) {
	}

	private record Accepted(int status, Instant at, Fence fence) {
	}

	/** What waits for the channel: in the store as last read, and in memory now. */
	private AlertOutbox.Backlog waiting(Map<AlertChannel, AlertOutbox.Backlog> stored, AlertChannel channel) {
		AlertOutbox.Backlog none = new AlertOutbox.Backlog(0, null);
		return stored.getOrDefault(channel, none).plus(this.outbox.heldBacklog().getOrDefault(channel, none));
	}

}
