package io.pglockwatch.incident;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
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
import io.pglockwatch.cluster.Cluster;
import io.pglockwatch.cluster.Fence;
import io.pglockwatch.cluster.LeadershipListener;
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
 * quick), and hands each event to one events thread, which queues its writes on the {@link StoreWriter} and then
 * tells the listeners (the alert channels) at once: the store may live on the very cluster that is locked, or be
 * down, full or read-only, and neither a poll nor a page waits for it. The store gets the writes in order when it
 * can take them, with nothing lost while the process lives (within the writer's memory limit). Of each incident's
 * polls, only those where its curve changes course become timeline rows ({@link TimelineWriter}).
 *
 * <p>Only the leader of a target's shard records its incidents ({@link Cluster#fence(String)}). When this replica
 * starts leading a shard at a new epoch, the active incidents of its targets are read back from the store first, on
 * the events thread, so that a restart or a failover mid-incident continues the same incident (same id, same dedup
 * key, no second trigger); until they are read, its polls are not recorded. Every write carries the epoch it was
 * decided under and is refused by the store once another replica took the shard ({@link Cluster#write(Fence,
 * Runnable)}). A replica that does not lead a target keeps no incident state for it and shows the store's count of
 * its active incidents.
 */
public final class IncidentRecorder implements PollListener, LeadershipListener, MeterBinder, SmartLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(IncidentRecorder.class);

	/** Incidents of a target that nobody watches are resolved once unseen this long. */
	private static final Duration ORPHAN_AFTER = Duration.ofHours(1);

	/** How often a replica reads the active incidents of the targets it does not lead. */
	private static final Duration STORE_COUNTS_EVERY = Duration.ofSeconds(2);

	private final IncidentStore store;

	private final StoreWriter writes;

	private final TimelineWriter timeline;

	private final IncidentProperties retention;

	private final JsonMapper json;

	private final ObjectProvider<IncidentListener> listeners;

	private final Clock clock;

	private final Cluster cluster;

	/** Per configured target, in configuration order; the map never changes after construction. */
	private final Map<String, Watched> watched = new LinkedHashMap<>();

	private final Map<String, Thresholds> thresholds = new HashMap<>();

	/** Shards whose incidents are being read back on the events thread. */
	private final Set<Integer> loading = ConcurrentHashMap.newKeySet();

	/** Active incidents per target as the store showed them last, for the targets this replica does not lead. */
	private volatile Map<String, Integer> storeCounts = Map.of();

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
			ObjectProvider<IncidentListener> listeners, Clock clock, Cluster cluster) {
		this.store = store;
		this.writes = writes;
		this.timeline = new TimelineWriter(store);
		this.retention = retention;
		this.json = json;
		this.listeners = listeners;
		this.clock = clock;
		this.cluster = cluster;
		for (TargetsProperties.Target target : targets.targets()) {
			this.watched.put(target.name(), new Watched(cluster.shardOf(target.name())));
			this.thresholds.put(target.name(), detection.thresholds(target.detection()));
			Map<IncidentKind, AtomicInteger> counts = new EnumMap<>(IncidentKind.class);
			for (IncidentKind kind : IncidentKind.values()) {
				counts.put(kind, new AtomicInteger());
			}
			this.openCounts.put(target.name(), counts);
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

	/**
	 * Active incidents of a target right now: as recorded here for a target this replica leads, else as the store
	 * showed them at its last read (every few seconds).
	 */
	public int openCount(String target) {
		Watched watch = this.watched.get(target);
		if (watch == null) {
			return 0;
		}
		if (leads(watch)) {
			return this.openCounts.get(target).values().stream().mapToInt(AtomicInteger::get).sum();
		}
		return this.storeCounts.getOrDefault(target, 0);
	}

	/** A target this replica stops polling (another leads its shard now): its open-incident gauges go to 0. */
	@Override
	public void onWatch(String target, boolean watching) {
		if (!watching && this.watched.containsKey(target)) {
			recount(target, false);
		}
	}

	@Override
	public void onPoll(PollOutcome outcome) {
		Watched watch = this.watched.get(outcome.target());
		if (watch == null) {
			return;
		}
		Fence fence = this.cluster.fence(watch.shard);
		if (fence == null) {
			// the lifecycle stays: leading again at the same epoch continues it
			recount(outcome.target(), false);
			return;
		}
		if (!fence.equals(watch.fence)) {
			// leading at a new epoch: continue from what the store holds, not from what this replica last knew
			if (this.loading.add(watch.shard)) {
				this.events.execute(() -> load(fence));
			}
			return;
		}
		if (!outcome.succeeded()) {
			return; // a failed poll says nothing about whether the condition is gone
		}
		List<IncidentEvent> events = watch.lifecycle.advance(outcome.graph(), this.thresholds.get(outcome.target()));
		recount(outcome.target(), true);
		if (events.isEmpty()) {
			return;
		}
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
		this.events.execute(() -> events.forEach((event) -> record(event, fence)));
	}

	/** Reads the shard's active incidents back at once, so that its targets' next polls are recorded. */
	@Override
	public void onLeadershipGained(int shard, long epoch) {
		Fence fence = new Fence(shard, epoch);
		boolean loaded = this.watched.values().stream().allMatch((w) -> w.shard != shard || fence.equals(w.fence));
		if (!loaded && this.loading.add(shard)) {
			this.events.execute(() -> load(fence));
		}
	}

	/**
	 * On the events thread: reads the active incidents of the shard's targets back from the store and continues
	 * them under {@code fence}; the targets' next polls are recorded. Incidents of targets that nobody here watches,
	 * unseen for an hour, are resolved: nothing would ever resolve them otherwise.
	 */
	private void load(Fence fence) {
		try {
			if (!this.cluster.holds(fence)) {
				return;
			}
			List<Incident> active = this.store.findActive();
			// the time without a leader is not time the situation was gone: the resolve-after wait starts now, so a
			// migration retrying with lock_timeout across a takeover stays one incident
			Instant now = this.clock.instant();
			List<Incident> continuing = active.stream().map((incident) -> seenAt(incident, now)).toList();
			int continued = 0;
			for (Map.Entry<String, Watched> entry : this.watched.entrySet()) {
				Watched watch = entry.getValue();
				if (watch.shard != fence.shard()) {
					continue;
				}
				IncidentLifecycle lifecycle = new IncidentLifecycle(entry.getKey(), continuing,
						() -> UUID.randomUUID().toString());
				continued += lifecycle.active().size();
				watch.lifecycle = lifecycle;
				watch.fence = fence;
				recount(entry.getKey(), true);
			}
			logger.info("Recording the incidents of shard {} (epoch {}): {} active incident(s) continued from the store",
					fence.shard(), fence.epoch(), continued);
			resolveOrphans(active, fence);
		}
		catch (DataAccessException ex) {
			logger.warn("Cannot read the active incidents of shard {} from the store, so its targets are not recorded "
					+ "yet; tried again at their next poll: {}", fence.shard(), ex.getMostSpecificCause().getMessage());
		}
		finally {
			this.loading.remove(fence.shard());
		}
	}

	private static Incident seenAt(Incident incident, Instant now) {
		if (incident.lastSeenAt() != null && !incident.lastSeenAt().isBefore(now)) {
			return incident;
		}
		return new Incident(incident.id(), incident.dedupKey(), incident.target(), incident.kind(), incident.severity(),
				incident.state(), incident.openedAt(), incident.escalatedAt(), incident.resolvedAt(), now, incident.ddl(),
				incident.rootBlocker(), incident.queueDepth(), incident.peakQueueDepth(), incident.peakMaxWait(),
				incident.database());
	}

	private void resolveOrphans(List<Incident> active, Fence fence) {
		Instant unseenSince = this.clock.instant().minus(ORPHAN_AFTER);
		for (Incident orphan : active) {
			if (this.watched.containsKey(orphan.target()) || this.cluster.shardOf(orphan.target()) != fence.shard()
					|| orphan.lastSeenAt() == null || !orphan.lastSeenAt().isBefore(unseenSince)) {
				continue;
			}
			Incident resolved = new Incident(orphan.id(), orphan.dedupKey(), orphan.target(), orphan.kind(),
					orphan.severity(), IncidentState.RESOLVED, orphan.openedAt(), orphan.escalatedAt(),
					this.clock.instant(), orphan.lastSeenAt(), orphan.ddl(), orphan.rootBlocker(), 0,
					orphan.peakQueueDepth(), orphan.peakMaxWait(), orphan.database());
			logger.info("Resolving incident {}: target {} is not watched here and the incident was last seen at {}",
					orphan.id(), orphan.target(), orphan.lastSeenAt());
			record(new IncidentEvent(IncidentEvent.Type.RESOLVED, resolved, null, null), fence);
		}
	}

	/** On the events thread: the store's count of active incidents of the targets this replica does not lead. */
	private void readStoreCounts() {
		if (this.watched.values().stream().allMatch(this::leads)) {
			return;
		}
		try {
			Map<String, Integer> counts = new HashMap<>();
			for (Incident incident : this.store.findActive()) {
				counts.merge(incident.target(), 1, Integer::sum);
			}
			this.storeCounts = Map.copyOf(counts);
		}
		catch (DataAccessException ex) {
			logger.debug("Cannot read the active incidents from the store: {}", ex.getMessage());
		}
	}

	/** Whether this replica records the target now: it leads its shard with the epoch its incidents were read at. */
	private boolean leads(Watched watch) {
		Fence fence = this.cluster.fence(watch.shard);
		return fence != null && fence.equals(watch.fence);
	}

	/** Sets the target's open-incident gauges: its active incidents while {@code leading}, else 0. */
	private void recount(String target, boolean leading) {
		Watched watch = this.watched.get(target);
		Map<IncidentKind, Integer> counts = new EnumMap<>(IncidentKind.class);
		if (leading && watch.lifecycle != null) {
			for (Incident incident : watch.lifecycle.active()) {
				counts.merge(incident.kind(), 1, Integer::sum);
			}
		}
		this.openCounts.get(target).forEach((kind, value) -> value.set(counts.getOrDefault(kind, 0)));
	}

	private Counter counter(String target, IncidentKind kind) {
		Map<IncidentKind, Counter> counters = this.openedCounters.get(target);
		return counters == null ? null : counters.get(kind);
	}

	/** On the events thread: queues the event's writes, then tells every listener. */
	private void record(IncidentEvent event, Fence fence) {
		String id = event.incident().id();
		String peakGraph = null;
		if (event.peakGraph() != null) {
			peakGraph = this.json.writeValueAsString(PeakGraph.of(event.peakGraph()));
			this.peakGraphs.put(id, peakGraph);
		}
		write(event, peakGraph, fence);
		String stored = (event.type() == IncidentEvent.Type.RESOLVED) ? this.peakGraphs.remove(id)
				: this.peakGraphs.get(id);
		for (IncidentListener listener : this.listeners.orderedStream().toList()) {
			try {
				listener.onIncidentEvent(event, stored, fence);
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
	private void write(IncidentEvent event, String peakGraph, Fence fence) {
		Incident incident = event.incident();
		String id = incident.id();
		String what = event.type().name().toLowerCase(Locale.ROOT) + " of incident " + id;
		this.writes.submit(what, "incident:" + id, false, () -> this.cluster.write(fence, () -> this.store.save(incident)));
		if (event.point() != null) {
			this.writes.submit("timeline point of incident " + id, null, true,
					() -> this.cluster.write(fence, () -> this.timeline.write(id, event.point())));
		}
		if (peakGraph != null) {
			this.writes.submit("peak graph of incident " + id, "peak-graph:" + id, false,
					() -> this.cluster.write(fence, () -> this.store.savePeakGraph(id, peakGraph)));
		}
		if (event.type() == IncidentEvent.Type.RESOLVED) {
			this.writes.submit("end of the timeline of incident " + id, null, false,
					() -> this.cluster.write(fence, () -> this.timeline.resolved(id)));
		}
	}

	/**
	 * Queues a pruning of the history, by the leader of shard 0 only (the history is the whole cluster's); one waits
	 * at most (a store that fails holds them up).
	 */
	private void prune() {
		Fence fence = this.cluster.fence(0);
		if (fence == null) {
			return;
		}
		this.writes.submit("pruning of the incident history", "prune", false, () -> this.cluster.write(fence, () -> {
			int deleted = this.store.prune(this.clock.instant().minus(this.retention.maxAge()),
					this.retention.maxCount());
			if (deleted > 0) {
				logger.info("Pruned {} resolved incident(s) from the history", deleted);
			}
		}));
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
		this.events.scheduleWithFixedDelay(this::readStoreCounts, 0, STORE_COUNTS_EVERY.toMillis(),
				TimeUnit.MILLISECONDS);
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
		return new ArrayList<>(this.watched.keySet());
	}

	/**
	 * A configured target as this replica records it. The events thread sets both on a load; the poll thread advances
	 * the lifecycle only while the cluster's fence for the shard equals {@code fence}.
	 */
	private static final class Watched {

		final int shard;

		/** Its incidents as last recorded here; null before this replica first led its shard. */
		volatile IncidentLifecycle lifecycle;

		/** The fence {@code lifecycle} was read back under. */
		volatile Fence fence;

		Watched(int shard) {
			this.shard = shard;
		}

	}

}
