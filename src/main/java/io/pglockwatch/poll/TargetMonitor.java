package io.pglockwatch.poll;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;

/**
 * Runs one {@link TargetPoller} per configured target. Ticks come from one small scheduler thread and never
 * block; the polls themselves run on a worker pool with at most one poll per target in flight, so a
 * target that hangs costs one thread and never delays another. Start times are spread over the interval.
 * A target that is down at startup does not stop startup: it is reported down and retried.
 */
public final class TargetMonitor implements SmartLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(TargetMonitor.class);

	private final TargetsProperties targets;

	private final PollProperties poll;

	private final TargetStatus status;

	private final ObjectProvider<PollListener> listeners;

	private final Clock clock;

	private final List<TargetConnections> connections = new ArrayList<>();

	private ScheduledExecutorService scheduler;

	private ExecutorService workers;

	private volatile boolean running;

	public TargetMonitor(TargetsProperties targets, PollProperties poll, TargetStatus status, ObjectProvider<PollListener> listeners,
			Clock clock) {
		this.targets = targets;
		this.poll = poll;
		this.status = status;
		this.listeners = listeners;
		this.clock = clock;
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
		this.scheduler = Executors.newSingleThreadScheduledExecutor(threads("pglockwatch-scheduler"));
		this.workers = Executors.newCachedThreadPool(threads("pglockwatch-poll"));
		List<PollListener> listenerList = this.listeners.orderedStream().toList();
		PollProperties poll = this.poll;
		List<TargetsProperties.Target> targets = this.targets.targets();
		long intervalMillis = poll.interval().toMillis();
		long base = System.nanoTime();
		for (int i = 0; i < targets.size(); i++) {
			TargetsProperties.Target target = targets.get(i);
			TargetConnections targetConnections = new TargetConnections(target, poll);
			this.connections.add(targetConnections);
			LockSnapshotCollector collector = new LockSnapshotCollector(target.name(), this.targets.queryText(),
					new RelationNameResolver(targetConnections, this.clock));
			long offset = intervalMillis * i / targets.size();
			TargetPoller poller = new TargetPoller(target.name(), poll, targetConnections, collector, this.status,
					listenerList, this.workers, this.clock, base + TimeUnit.MILLISECONDS.toNanos(offset));
			this.scheduler.scheduleAtFixedRate(poller::tick, base + TimeUnit.MILLISECONDS.toNanos(offset) - System.nanoTime(),
					TimeUnit.MILLISECONDS.toNanos(intervalMillis), TimeUnit.NANOSECONDS);
		}
		this.running = true;
		logger.info("Watching {} target(s) every {} ms: {}", targets.size(), intervalMillis,
				targets.stream().map(TargetsProperties.Target::name).toList());
	}

	@Override
	public synchronized void stop() {
		this.running = false;
		if (this.scheduler != null) {
			this.scheduler.shutdownNow();
			this.workers.shutdownNow();
			try {
				this.workers.awaitTermination(5, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
		this.connections.forEach(TargetConnections::close);
		this.connections.clear();
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	private static ThreadFactory threads(String prefix) {
		AtomicInteger counter = new AtomicInteger();
		return (runnable) -> {
			Thread thread = new Thread(runnable, prefix + "-" + counter.incrementAndGet());
			thread.setDaemon(true);
			return thread;
		};
	}

}
