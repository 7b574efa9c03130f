package io.pglockwatch.poll;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.function.LongSupplier;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;
import org.springframework.scheduling.TaskScheduler;

/**
 * Runs one {@link TargetPoller} per configured target; each polls while the {@link TargetAssignment} says this
 * replica watches its target (leads its shard), and its tick does nothing else meanwhile. Ticks come from one small
 * scheduler thread and never block; the polls themselves run on a worker pool with at most one poll per target in flight, so a
 * target that hangs costs one thread and never delays another. Start times are spread over the interval.
 * A target that is down at startup does not stop startup: it is reported down and retried.
 */
public final class TargetMonitor implements SmartLifecycle, MeterBinder {

	private static final Logger logger = LoggerFactory.getLogger(TargetMonitor.class);

	private final TargetsProperties targets;

	private final PollProperties poll;

	private final TargetStatus status;

	private final ObjectProvider<PollListener> listeners;

	private final Clock clock;

	private final TaskScheduler scheduler;

	private final Executor workers;

	private final LongSupplier nanoTime;

	private final TargetAssignment assignment;

	private final List<TargetConnections> connections = new ArrayList<>();

	private final List<ScheduledFuture<?>> ticks = new ArrayList<>();

	/** The pollers by target, once started. */
	private final Map<String, TargetPoller> pollers = new ConcurrentHashMap<>();

	private volatile boolean running;

	public TargetMonitor(TargetsProperties targets, PollProperties poll, TargetStatus status, ObjectProvider<PollListener> listeners,
			Clock clock, TaskScheduler scheduler, Executor workers, TargetAssignment assignment) {
		this(targets, poll, status, listeners, clock, scheduler, workers, System::nanoTime, assignment);
	}

	/** Polling every target, with a replaceable monotonic clock, so that tests can move time by hand. */
	TargetMonitor(TargetsProperties targets, PollProperties poll, TargetStatus status, ObjectProvider<PollListener> listeners,
			Clock clock, TaskScheduler scheduler, Executor workers, LongSupplier nanoTime) {
		this(targets, poll, status, listeners, clock, scheduler, workers, nanoTime, TargetAssignment.ALL);
	}

	private TargetMonitor(TargetsProperties targets, PollProperties poll, TargetStatus status,
			ObjectProvider<PollListener> listeners, Clock clock, TaskScheduler scheduler, Executor workers,
			LongSupplier nanoTime, TargetAssignment assignment) {
		this.assignment = assignment;
		this.targets = targets;
		this.poll = poll;
		this.status = status;
		this.listeners = listeners;
		this.clock = clock;
		this.scheduler = scheduler;
		this.workers = workers;
		this.nanoTime = nanoTime;
		for (int i = 0; i < targets.targets().size(); i++) {
			Duration burst = targets.targets().get(i).burstInterval(poll);
			if (!PollProperties.isValidBurst(burst, poll.interval())) {
				throw new IllegalArgumentException("pglockwatch.targets[" + i + "].poll.burst-interval (" + burst.toMillis()
						+ " ms) must be 0 (no bursts) or at least 50ms and shorter than pglockwatch.poll.interval ("
						+ poll.interval().toMillis() + " ms)");
			}
		}
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		for (TargetsProperties.Target target : this.targets.targets()) {
			Gauge.builder("pglockwatch.poll.bursting", this.pollers,
					(pollers) -> (pollers.get(target.name()) != null && pollers.get(target.name()).bursting()) ? 1 : 0)
				.description("1 while the target is polled at the burst interval (a session waits for a relation lock "
						+ "that blocks writes), else 0")
				.tag("target", target.name())
				.strongReference(true)
				.register(registry);
		}
	}

	/** The target's sessions, for components that act on a target (guard, preflight); null if unknown. */
	public TargetConnections connections(String target) {
		for (TargetConnections c : this.connections) {
			if (c.targetName().equals(target)) {
				return c;
			}
		}
		return null;
	}

	@Override
	public synchronized void start() {
		List<PollListener> listenerList = this.listeners.orderedStream().toList();
		List<TargetsProperties.Target> targets = this.targets.targets();
		Duration interval = this.poll.interval();
		// the same moment on both clocks: the scheduler takes start times as instants, the pollers measure
		// how late a tick ran against the monotonic clock
		Instant base = this.scheduler.getClock().instant();
		long baseNanos = this.nanoTime.getAsLong();
		for (int i = 0; i < targets.size(); i++) {
			TargetsProperties.Target target = targets.get(i);
			TargetConnections targetConnections = new TargetConnections(target, this.poll);
			this.connections.add(targetConnections);
			PrimaryHolders holders = (target.primary() != null)
					? new PrimaryHolderLookup(target.primary(), () -> connections(target.primary()), this.workers)
					: PrimaryHolders.NONE;
			LockSnapshotCollector collector = new LockSnapshotCollector(target.name(), this.targets.queryText(),
					new RelationNameResolver(targetConnections, this.clock), holders);
			Duration offset = startOffset(i, targets.size(), interval);
			TargetPoller poller = new TargetPoller(target.name(), this.poll, targetConnections, collector, this.status,
					listenerList, this.workers, this.clock, this.nanoTime, baseNanos + offset.toNanos(), this.scheduler,
					target.burstInterval(this.poll), this.assignment);
			this.pollers.put(target.name(), poller);
			this.ticks.add(this.scheduler.scheduleAtFixedRate(poller::tick, base.plus(offset), interval));
		}
		this.running = true;
		logger.info("Watching {} target(s) every {} ms: {}", targets.size(), interval.toMillis(),
				targets.stream().map(TargetsProperties.Target::name).toList());
	}

	/**
	 * When the first tick of target {@code index} of {@code count} comes after start: the targets' polls are
	 * spread evenly over one interval instead of all hitting the worker pool (and the monitor's CPU) at once.
	 */
	static Duration startOffset(int index, int count, Duration interval) {
		return interval.multipliedBy(index).dividedBy(count);
	}

	@Override
	public synchronized void stop() {
		this.running = false;
		// polls in flight end on their own (every session has statement and socket timeouts); the worker pool
		// is shut down with the context
		this.ticks.forEach((tick) -> tick.cancel(false));
		this.ticks.clear();
		this.pollers.clear();
		this.connections.forEach(TargetConnections::close);
		this.connections.clear();
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

}
