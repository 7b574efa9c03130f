package io.pglockwatch.incident;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.IncidentEvent;
import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.detect.IncidentLifecycle;
import io.pglockwatch.detect.IncidentState;
import io.pglockwatch.detect.Thresholds;
import io.pglockwatch.poll.PollListener;
import io.pglockwatch.poll.PollOutcome;
import io.pglockwatch.poll.TargetsProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;
import org.springframework.dao.DataAccessException;

/**
 * Advances each target's {@link IncidentLifecycle} after every successful poll, on the poll thread (pure and
 * quick), and hands every store write to one writer thread: the store may live on the very cluster that is
 * locked, so a slow store must never delay a poll. The writer keeps events in order and retries a failed
 * write with backoff until the store takes it, so nothing is lost while the process lives. Active incidents
 * are read back at startup, so a restart mid-incident continues the same incident. Of each incident's polls, only
 * those where its curve changes course become timeline rows ({@link TimelineWriter}).
 */
public final class IncidentRecorder implements PollListener, MeterBinder, SmartLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(IncidentRecorder.class);

	private static final Duration MAX_RETRY_DELAY = Duration.ofSeconds(30);

	private final IncidentStore store;

	private final TimelineWriter timeline;

	private final IncidentProperties retention;

	private final JsonMapper json;

	private final ObjectProvider<IncidentListener> listeners;

	private final Clock clock;

	private final Map<String, IncidentLifecycle> lifecycles = new HashMap<>();

	private final Map<String, Thresholds> thresholds = new HashMap<>();

	private final Map<String, Map<IncidentKind, AtomicInteger>> openCounts = new ConcurrentHashMap<>();

	private final Map<String, Map<IncidentKind, Counter>> openedCounters = new ConcurrentHashMap<>();

	private final ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor((r) -> {
		Thread thread = new Thread(r, "pglockwatch-incident-writer");
		thread.setDaemon(true);
		return thread;
	});

	private volatile boolean running;

	public IncidentRecorder(IncidentStore store, TargetsProperties targets, DetectionProperties detection,
			IncidentProperties retention, JsonMapper json, ObjectProvider<IncidentListener> listeners, Clock clock) {
		this.store = store;
		this.timeline = new TimelineWriter(store);
		this.retention = retention;
		this.json = json;
		this.listeners = listeners;
		this.clock = clock;
		List<Incident> restored = store.findActive();
		for (TargetsProperties.Target target : targets.targets()) {
			this.lifecycles.put(target.name(),
					new IncidentLifecycle(target.name(), restored, () -> UUID.randomUUID().toString()));
			this.thresholds.put(target.name(), detection.thresholds(target.detection()));
			Map<IncidentKind, AtomicInteger> counts = new EnumMap<>(IncidentKind.class);
			for (IncidentKind kind : IncidentKind.values()) {
				counts.put(kind, new AtomicInteger());
			}
			this.openCounts.put(target.name(), counts);
			recount(target.name());
		}
		if (!restored.isEmpty()) {
			logger.info("Continuing {} active incident(s) from the store", restored.size());
		}
		for (Incident orphan : restored) {
			// nobody here watches that target, so nothing here would ever resolve it; but another shard sharing this
			// store may, so only an incident nobody has seen for an hour is resolved
			if (!this.lifecycles.containsKey(orphan.target()) && orphan.lastSeenAt() != null
					&& orphan.lastSeenAt().isBefore(clock.instant().minus(Duration.ofHours(1)))) {
				Incident resolved = new Incident(orphan.id(), orphan.dedupKey(), orphan.target(), orphan.kind(),
						orphan.severity(), IncidentState.RESOLVED, orphan.openedAt(),
						orphan.escalatedAt(), clock.instant(), orphan.lastSeenAt(), orphan.ddl(), orphan.rootBlocker(), 0,
						orphan.peakQueueDepth(), orphan.peakMaxWait(), orphan.database());
				logger.info("Resolving incident {}: target {} is not watched here and the incident was last seen at {}",
						orphan.id(), orphan.target(), orphan.lastSeenAt());
				this.writer.execute(() -> persist(new IncidentEvent(IncidentEvent.Type.RESOLVED, resolved, null, null)));
			}
		}
	}

	/** The effective thresholds of a target. */
	public Thresholds thresholds(String target) {
		return this.thresholds.get(target);
	}

	/** Active incidents of a target right now. */
	public int openCount(String target) {
		Map<IncidentKind, AtomicInteger> counts = this.openCounts.get(target);
		return counts == null ? 0 : counts.values().stream().mapToInt(AtomicInteger::get).sum();
	}

	@Override
	public void onPoll(PollOutcome outcome) {
		IncidentLifecycle lifecycle = this.lifecycles.get(outcome.target());
		if (lifecycle == null || !outcome.succeeded()) {
			return; // a failed poll says nothing about whether the condition is gone
		}
		List<IncidentEvent> events = lifecycle.advance(outcome.graph(), this.thresholds.get(outcome.target()));
		if (events.isEmpty()) {
			return;
		}
		recount(outcome.target());
		for (IncidentEvent event : events) {
			if (event.type() == IncidentEvent.Type.OPENED) {
				Counter counter = counter(outcome.target(), event.incident().kind());
				if (counter != null) {
					counter.increment();
				}
				logger.warn("Incident {} opened on {}: {} (queue {}, key {})", event.incident().id(), outcome.target(),
						event.incident().kind().label(), event.incident().queueDepth(), event.incident().dedupKey());
			}
			else if (event.type() == IncidentEvent.Type.RESOLVED) {
				logger.info("Incident {} on {} resolved", event.incident().id(), outcome.target());
			}
			else if (event.type() == IncidentEvent.Type.ESCALATED) {
				logger.warn("Incident {} on {} escalated to critical", event.incident().id(), outcome.target());
			}
		}
		this.writer.execute(() -> events.forEach(this::persist));
	}

	private void recount(String target) {
		Map<IncidentKind, Integer> counts = new EnumMap<>(IncidentKind.class);
		for (Incident incident : this.lifecycles.get(target).active()) {
			counts.merge(incident.kind(), 1, Integer::sum);
		}
		this.openCounts.get(target).forEach((kind, value) -> value.set(counts.getOrDefault(kind, 0)));
	}

	private Counter counter(String target, IncidentKind kind) {
		Map<IncidentKind, Counter> counters = this.openedCounters.get(target);
		return counters == null ? null : counters.get(kind);
	}

	private void persist(IncidentEvent event) {
		if (!retrying(event, () -> write(event), "store")) {
			return;
		}
		for (IncidentListener listener : this.listeners.orderedStream().toList()) {
			// an alert that cannot be queued is retried like the incident itself, never dropped
			retrying(event, () -> listener.onIncidentEvent(event), listener.getClass().getSimpleName());
		}
	}

	/** Runs {@code step} until it succeeds; DataAccessExceptions are retried with backoff, anything else is a bug. */
	private boolean retrying(IncidentEvent event, Runnable step, String what) {
		Duration delay = Duration.ofMillis(250);
		while (true) {
			try {
				step.run();
				return true;
			}
			catch (RuntimeException ex) {
				if (!(ex instanceof DataAccessException)) {
					// a bug, not an unavailable store: retrying would block every later event behind this one
					logger.error("{} failed on {} of incident {}; skipped", what, event.type(), event.incident().id(), ex);
					return false;
				}
				logger.warn("{} failed on {} of incident {} ({}); retrying in {} ms", what, event.type(),
						event.incident().id(), ex.getMessage(), delay.toMillis());
				try {
					Thread.sleep(delay.toMillis());
				}
				catch (InterruptedException interrupted) {
					Thread.currentThread().interrupt();
					logger.error("Stopped while {} was failing; {} of incident {} not done", what, event.type(),
							event.incident().id());
					return false;
				}
				delay = delay.multipliedBy(2).compareTo(MAX_RETRY_DELAY) > 0 ? MAX_RETRY_DELAY : delay.multipliedBy(2);
			}
		}
	}

	private void write(IncidentEvent event) {
		this.store.save(event.incident());
		if (event.point() != null) {
			this.timeline.write(event.incident().id(), event.point());
		}
		if (event.type() == IncidentEvent.Type.RESOLVED) {
			this.timeline.resolved(event.incident().id());
		}
		if (event.peakGraph() != null) {
			this.store.savePeakGraph(event.incident().id(), this.json.writeValueAsString(PeakGraph.of(event.peakGraph())));
		}
	}

	private void prune() {
		try {
			IncidentProperties retention = this.retention;
			int deleted = this.store.prune(this.clock.instant().minus(retention.maxAge()), retention.maxCount());
			if (deleted > 0) {
				logger.info("Pruned {} resolved incident(s) from the history", deleted);
			}
		}
		catch (RuntimeException ex) {
			logger.warn("Pruning incident history failed: {}", ex.getMessage());
		}
	}

	/** Waits until every event handed to the writer so far is stored (for tests and orderly shutdown). */
	public void flush(Duration timeout) {
		try {
			this.writer.submit(() -> {
			}).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
		}
		catch (Exception ex) {
			throw new IllegalStateException("incident writer did not catch up within " + timeout, ex);
		}
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		this.openCounts.forEach((target, counts) -> {
			Map<IncidentKind, Counter> counters = new EnumMap<>(IncidentKind.class);
			counts.forEach((kind, value) -> {
				Gauge.builder("pglockwatch.incidents.open", value, AtomicInteger::get)
					.description("Active (open or escalated) incidents by kind")
					.tag("target", target)
					.tag("kind", kind.label())
					.register(registry);
				counters.put(kind, Counter.builder("pglockwatch.incidents.opened")
					.description("Incidents opened by kind")
					.tag("target", target)
					.tag("kind", kind.label())
					.register(registry));
			});
			this.openedCounters.put(target, counters);
		});
	}

	@Override
	public void start() {
		long every = this.retention.pruneInterval().toMillis();
		this.writer.scheduleWithFixedDelay(this::prune, 0, every, TimeUnit.MILLISECONDS);
		this.running = true;
	}

	@Override
	public void stop() {
		this.running = false;
		try {
			flush(Duration.ofSeconds(5));
		}
		catch (IllegalStateException ex) {
			logger.warn("Stopping with incident events not yet stored: {}", ex.getMessage());
		}
		this.writer.shutdownNow();
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	@Override
	public int getPhase() {
		// stop after the pollers (default phase), so their last events are written
		return Integer.MAX_VALUE - 1;
	}

	List<String> targets() {
		return new ArrayList<>(this.lifecycles.keySet());
	}

}
