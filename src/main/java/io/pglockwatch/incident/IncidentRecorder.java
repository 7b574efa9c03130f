package io.pglockwatch.incident;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
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

/**
 * Advances each target's {@link IncidentLifecycle} after every successful poll, on the poll thread (pure and
 * quick), and hands each event to one events thread, which queues its writes on the {@link StoreWriter} and then
 * tells the listeners (the alert channels) at once: the store may live on the very cluster that is locked, or be
 * down, full or read-only, and neither a poll nor a page waits for it. The store gets the writes in order when it
 * can take them, with nothing lost while the process lives (within the writer's memory limit). Active incidents are
 * read back at startup, so a restart mid-incident continues the same incident. Of each incident's polls, only those
 * where its curve changes course become timeline rows ({@link TimelineWriter}).
 */
public final class IncidentRecorder implements PollListener, MeterBinder, SmartLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(IncidentRecorder.class);

	private final IncidentStore store;

	private final StoreWriter writes;

	private final TimelineWriter timeline;

	private final IncidentProperties retention;

	private final JsonMapper json;

	private final ObjectProvider<IncidentListener> listeners;

	private final Clock clock;

	private final Map<String, IncidentLifecycle> lifecycles = new HashMap<>();

	private final Map<String, Thresholds> thresholds = new HashMap<>();

	private final Map<String, Map<IncidentKind, AtomicInteger>> openCounts = new ConcurrentHashMap<>();

	private final Map<String, Map<IncidentKind, Counter>> openedCounters = new ConcurrentHashMap<>();

	// the newest peak graph of each active incident, as stored (JSON); the events thread's alone
	private final Map<String, String> peakGraphs = new HashMap<>();

	private final ScheduledExecutorService events = Executors.newSingleThreadScheduledExecutor((r) -> {
		Thread thread = new Thread(r, "pglockwatch-incident-events");
		thread.setDaemon(true);
		return thread;
	});

	private volatile boolean running;

	public IncidentRecorder(IncidentStore store, StoreWriter writes, TargetsProperties targets,
			DetectionProperties detection, IncidentProperties retention, JsonMapper json,
			ObjectProvider<IncidentListener> listeners, Clock clock) {
		this.store = store;
		this.writes = writes;
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
				this.events.execute(() -> record(new IncidentEvent(IncidentEvent.Type.RESOLVED, resolved, null, null)));
			}
		}
	}

	/** The effective thresholds of a target. */
	public Thresholds thresholds(String target) {
		return this.thresholds.get(target);
	}

	/** Since when and why writes to the store fail; null while it takes them. */
	public StoreWriter.Failure storeFailure() {
		return this.writes.failure();
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
		this.events.execute(() -> events.forEach(this::record));
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

	/** On the events thread: queues the event's writes, then tells every listener. */
	private void record(IncidentEvent event) {
		String id = event.incident().id();
		String peakGraph = null;
		if (event.peakGraph() != null) {
			peakGraph = this.json.writeValueAsString(PeakGraph.of(event.peakGraph()));
			this.peakGraphs.put(id, peakGraph);
		}
		write(event, peakGraph);
		String stored = (event.type() == IncidentEvent.Type.RESOLVED) ? this.peakGraphs.remove(id)
				: this.peakGraphs.get(id);
		for (IncidentListener listener : this.listeners.orderedStream().toList()) {
			try {
				listener.onIncidentEvent(event, stored);
			}
			catch (RuntimeException ex) {
				logger.error("{} failed on {} of incident {}", listener.getClass().getSimpleName(), event.type(), id, ex);
			}
		}
	}

	/**
	 * Queues the writes of one event: the incident's newest state and its newest peak graph replace ones still
	 * waiting, so a long outage holds one of each per incident; timeline points are what may be dropped first.
	 */
	private void write(IncidentEvent event, String peakGraph) {
		Incident incident = event.incident();
		String id = incident.id();
		String what = event.type().name().toLowerCase(Locale.ROOT) + " of incident " + id;
		this.writes.submit(what, "incident:" + id, false, () -> this.store.save(incident));
		if (event.point() != null) {
			this.writes.submit("timeline point of incident " + id, null, true,
					() -> this.timeline.write(id, event.point()));
		}
		if (peakGraph != null) {
			this.writes.submit("peak graph of incident " + id, "peak-graph:" + id, false,
					() -> this.store.savePeakGraph(id, peakGraph));
		}
		if (event.type() == IncidentEvent.Type.RESOLVED) {
			this.writes.submit("end of the timeline of incident " + id, null, false, () -> this.timeline.resolved(id));
		}
	}

	/** Queues a pruning of the history; one waits at most (a store that fails holds them up). */
	private void prune() {
		this.writes.submit("pruning of the incident history", "prune", false, () -> {
			int deleted = this.store.prune(this.clock.instant().minus(this.retention.maxAge()),
					this.retention.maxCount());
			if (deleted > 0) {
				logger.info("Pruned {} resolved incident(s) from the history", deleted);
			}
		});
	}

	/**
	 * Waits until every event so far is handed to the listeners and its writes are stored (for tests and orderly
	 * shutdown).
	 * @throws IllegalStateException when that takes longer than {@code timeout}, e.g. while the store fails
	 */
	public void flush(Duration timeout) {
		long started = System.nanoTime();
		try {
			this.events.submit(() -> {
			}).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
		}
		catch (Exception ex) {
			throw new IllegalStateException("incident events not handled within " + timeout, ex);
		}
		this.writes.flush(timeout.minusNanos(System.nanoTime() - started));
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
		this.events.scheduleWithFixedDelay(this::prune, 0, every, TimeUnit.MILLISECONDS);
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
		this.events.shutdownNow();
		this.writes.shutdown();
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
