package io.pglockwatch.alert;

import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.pglockwatch.alert.PagerDutyEvent.Routed;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.context.SmartLifecycle;
import org.springframework.http.MediaType;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.web.client.RestClient;

/**
 * Delivers the outbox at least once. One thread works through due events, oldest first and in order per
 * incident and channel (a resolve never overtakes its trigger). 2xx is accepted; 429 waits for Retry-After
 * (or {@code rate-limited-backoff}); 5xx, 408, timeouts and connection errors are retried with exponential
 * backoff and jitter; any other status (400: the event is invalid) is logged with the response body,
 * counted and not retried. Each channel sends at most {@code max-events-per-minute}. The PagerDuty routing
 * key is added to the body only here and is masked in every log line and stored error.
 */
final class AlertSender implements SmartLifecycle, MeterBinder {

	private static final Logger logger = LoggerFactory.getLogger(AlertSender.class);

	private static final int BATCH = 50;

	private static final Duration TICK = Duration.ofMillis(200);

	private static final int MAX_BODY_READ = 65536;

	private static final int MAX_BODY_KEPT = 4096;

	private static final TypeReference<LinkedHashMap<String, JsonNode>> STORED_EVENT = new TypeReference<>() {
	};

	private final AlertOutbox outbox;

	private final AlertProperties alerts;

	private final JsonMapper json;

	private final Clock clock;

	private final RestClient http;

	private final Map<AlertChannel, Deque<Instant>> recentSends = new EnumMap<>(AlertChannel.class);

	private final Map<CounterKey, Counter> counters = new ConcurrentHashMap<>();

	private final Map<AlertChannel, AlertOutbox.Backlog> backlog = new ConcurrentHashMap<>();

	// after a 429 the whole channel waits: the limit is the routing key's, not the event's
	private final Map<AlertChannel, Instant> pausedUntil = new ConcurrentHashMap<>();

	private MeterRegistry registry;

	private ScheduledExecutorService loop;

	private volatile boolean running;

	AlertSender(AlertOutbox outbox, AlertProperties alerts, JsonMapper json, Clock clock) {
		this.outbox = outbox;
		this.alerts = alerts;
		this.json = json;
		this.clock = clock;
		Duration timeout = alerts.delivery().requestTimeout();
		JdkClientHttpRequestFactory requests = new JdkClientHttpRequestFactory(
				HttpClient.newBuilder().connectTimeout(timeout).build());
		requests.setReadTimeout(timeout);
		this.http = RestClient.builder().requestFactory(requests).build();
		for (AlertChannel channel : AlertChannel.values()) {
			this.recentSends.put(channel, new ArrayDeque<>());
		}
	}

	boolean enabled(AlertChannel channel) {
		return (channel == AlertChannel.PAGERDUTY) ? this.alerts.pagerduty().enabled() : this.alerts.webhook().enabled();
	}

	/** Sends what is due now instead of at the next tick. */
	void wake() {
		ScheduledExecutorService executor = this.loop;
		if (executor != null && this.running) {
			executor.execute(this::drainQuietly);
		}
	}

	private void drainQuietly() {
		try {
			drain();
		}
		catch (RuntimeException ex) {
			// the store may be down: the events stay in it and the next tick tries again
			logger.warn("Alert outbox not readable: {}", mask(ex.getMessage()));
		}
	}

	void drain() {
		// per channel, so a channel that is off, paused or over its rate never holds up another
		for (AlertChannel channel : AlertChannel.values()) {
			if (!enabled(channel) || this.clock.instant().isBefore(this.pausedUntil.getOrDefault(channel, Instant.MIN))) {
				continue;
			}
			for (OutboxEntry entry : this.outbox.due(channel, this.clock.instant(), BATCH)) {
				if (!this.running || !withinRate(channel)
						|| this.clock.instant().isBefore(this.pausedUntil.getOrDefault(channel, Instant.MIN))) {
					break;
				}
				send(entry);
			}
		}
		this.backlog.clear();
		this.backlog.putAll(this.outbox.backlog());
	}

	private boolean withinRate(AlertChannel channel) {
		Deque<Instant> sends = this.recentSends.get(channel);
		Instant now = this.clock.instant();
		while (!sends.isEmpty() && sends.peekFirst().isBefore(now.minusSeconds(60))) {
			sends.pollFirst();
		}
		if (sends.size() >= this.alerts.delivery().maxEventsPerMinute()) {
			return false;
		}
		sends.addLast(now);
		return true;
	}

	private void send(OutboxEntry entry) {
		String body;
		try {
			body = body(entry);
		}
		catch (JacksonException ex) {
			this.outbox.markFailed(entry.id(), null, "stored payload is not a JSON object: " + ex.getMessage());
			count(entry, Outcome.REJECTED);
			logger.error("Alert {} of incident {} has a corrupt payload; not sent", entry.id(), entry.incidentId());
			return;
		}
		Response response;
		try {
			response = this.http.post()
				.uri(url(entry.channel()))
				.contentType(MediaType.APPLICATION_JSON)
				.body(body)
				.exchange((request, reply) -> new Response(reply.getStatusCode().value(),
						// mask before cutting, so no part of the key survives a cut
						cut(mask(new String(reply.getBody().readNBytes(MAX_BODY_READ), StandardCharsets.UTF_8))),
						seconds(reply.getHeaders().getFirst("Retry-After"))));
		}
		catch (RuntimeException ex) {
			retry(entry, null, describe(ex), backoff(entry.attempts()));
			return;
		}
		int status = response.status();
		if (status >= 200 && status < 300) {
			this.outbox.markSent(entry.id(), status, this.clock.instant());
			count(entry, Outcome.SENT);
			logger.info("Alert {} {} for incident {} accepted by {} ({})", entry.action().label(), entry.dedupKey(),
					entry.incidentId(), entry.channel().label(), status);
		}
		else if (status == 429) {
			Duration wait = retryAfter(response);
			this.pausedUntil.put(entry.channel(), this.clock.instant().plus(wait));
			retry(entry, status, "rate limited: " + response.body(), wait);
		}
		else if (status >= 500 || status == 408) {
			retry(entry, status, "HTTP " + status + ": " + response.body(), backoff(entry.attempts()));
		}
		else {
			String error = "HTTP " + status + ": " + mask(response.body());
			this.outbox.markFailed(entry.id(), status, error);
			count(entry, Outcome.REJECTED);
			logger.error("Alert {} {} for incident {} rejected by {}, not retried: {}", entry.action().label(),
					entry.dedupKey(), entry.incidentId(), entry.channel().label(), error);
		}
	}

	/** The stored body; for PagerDuty with the routing key, which is never stored. */
	private String body(OutboxEntry entry) {
		if (entry.channel() != AlertChannel.PAGERDUTY) {
			return entry.payload();
		}
		Map<String, JsonNode> stored = this.json.readValue(entry.payload(), STORED_EVENT);
		return this.json.writeValueAsString(new Routed(this.alerts.pagerduty().routingKey(), stored));
	}

	private String url(AlertChannel channel) {
		return (channel == AlertChannel.PAGERDUTY) ? this.alerts.pagerduty().url() : this.alerts.webhook().url();
	}

	private void retry(OutboxEntry entry, Integer status, String error, Duration wait) {
		String masked = mask(error);
		this.outbox.markRetry(entry.id(), status, masked, this.clock.instant().plus(wait));
		count(entry, Outcome.RETRIED);
		logger.warn("Alert {} {} for incident {} to {} failed (attempt {}): {}; retrying in {} ms",
				entry.action().label(), entry.dedupKey(), entry.incidentId(), entry.channel().label(),
				entry.attempts() + 1, masked, wait.toMillis());
	}

	/** Exponential backoff with jitter: between half and all of initial x 2^attempts, capped. */
	Duration backoff(int attempts) {
		Duration initial = this.alerts.delivery().initialBackoff();
		Duration max = this.alerts.delivery().maxBackoff();
		Duration full = initial.multipliedBy(1L << Math.min(attempts, 20));
		if (full.compareTo(max) > 0 || full.isNegative()) {
			full = max;
		}
		long millis = full.toMillis();
		return Duration.ofMillis(millis / 2 + ThreadLocalRandom.current().nextLong(millis / 2 + 1));
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
			// backlog gauges for every channel: events of a channel turned off stay visible
			if (enabled(channel)) {
				for (AlertAction action : AlertAction.of(channel)) {
					for (Outcome outcome : Outcome.values()) {
						counter(action, outcome);
					}
				}
			}
			Gauge.builder("pglockwatch.alert.outbox.pending", this.backlog,
					(b) -> b.containsKey(channel) ? b.get(channel).pending() : 0)
				.description("Alert events stored but not yet accepted by the channel")
				.tag("channel", channel.label())
				.register(registry);
			Gauge.builder("pglockwatch.alert.outbox.oldest.age", this.backlog, (b) -> {
				AlertOutbox.Backlog waiting = b.get(channel);
				return (waiting == null || waiting.oldest() == null) ? 0
						: Duration.between(waiting.oldest(), this.clock.instant()).toMillis() / 1000.0;
			})
				.description("Age of the oldest alert event not yet accepted by the channel; 0 when none is pending")
				.tag("channel", channel.label())
				.baseUnit("seconds")
				.register(registry);
		}
	}

	@Override
	public void start() {
		this.loop = Executors.newSingleThreadScheduledExecutor((r) -> {
			Thread thread = new Thread(r, "pglockwatch-alert-sender");
			thread.setDaemon(true);
			return thread;
		});
		this.running = true;
		// pending events of an earlier run go out first
		this.loop.scheduleWithFixedDelay(this::drainQuietly, 0, TICK.toMillis(), TimeUnit.MILLISECONDS);
	}

	@Override
	public void stop() {
		this.running = false;
		if (this.loop != null) {
			this.loop.shutdown();
			try {
				this.loop.awaitTermination(this.alerts.delivery().requestTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
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

}
