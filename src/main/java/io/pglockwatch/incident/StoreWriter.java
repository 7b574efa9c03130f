package io.pglockwatch.incident;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.pglockwatch.cluster.StaleEpochException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.dao.DataAccessException;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.dao.IncorrectResultSizeDataAccessException;
import org.springframework.util.Assert;

/**
 * Every write to the store, one at a time and in the order submitted, on one thread of its own, so that no caller
 * (a poll, a page, an alert) ever waits for the store. When the store refuses a write (down, full, read-only), that
 * write and every later one wait in memory and are retried with backoff until the store takes them again; callers
 * go on meanwhile. What waits is bounded: at {@code limit} waiting writes, the oldest droppable one (a timeline
 * point) is dropped to make room, else the oldest of all, and each drop is counted. A write submitted with a key
 * replaces a waiting write of the same key in its place (the newest state of an incident, its newest peak graph), so
 * an incident that stays open through a long outage holds one waiting write of each, not one a poll.
 *
 * <p>The log says once when writes start failing (WARN) and once when they are done again (INFO), not once a write.
 * A {@link DataAccessException} is a refusal by the store and is retried, except a constraint violation or a missing
 * row (the write can never succeed, e.g. the incident it belongs to was dropped), which is skipped and counted as a
 * drop. Any other exception is a bug in the write, logged and skipped, so that it cannot hold up the writes behind
 * it.
 */
public final class StoreWriter implements MeterBinder {

	/** How many writes may wait in memory by default. */
	public static final int DEFAULT_LIMIT = 10_000;

	private static final Logger logger = LoggerFactory.getLogger(StoreWriter.class);

	private static final Duration FIRST_RETRY = Duration.ofMillis(250);

	private static final Duration MAX_RETRY = Duration.ofSeconds(5);

	private final int limit;

	private final Clock clock;

	private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor((r) -> {
		Thread thread = new Thread(r, "pglockwatch-store-writer");
		thread.setDaemon(true);
		return thread;
	});

	private final Object lock = new Object();

	// guarded by lock
	private final Deque<Write> waiting = new ArrayDeque<>();

	// guarded by lock: the newest waiting write of each key, so a replacement does not walk the queue
	private final Map<String, Write> keyed = new HashMap<>();

	// guarded by lock: the write the thread runs now, which a newer one of its key must not replace
	private Write running;

	// guarded by lock
	private boolean scheduled;

	private final AtomicLong dropped = new AtomicLong();

	private final AtomicLong done = new AtomicLong();

	private volatile Failure failure;

	private Duration retryDelay = FIRST_RETRY;

	private boolean dropLogged;

	private volatile Counter droppedCounter;

	/**
	 * @param limit how many writes may wait in memory while the store refuses them
	 */
	public StoreWriter(int limit, Clock clock) {
		Assert.isTrue(limit > 0, "limit must be positive");
		this.limit = limit;
		this.clock = clock;
	}

	/**
	 * Queues a write after every write submitted before it.
	 * @param what says what the write is, for the log (e.g. "opened of incident 7f3a...")
	 * @param key null, or what the write stands for: a write of the same key still waiting is replaced by this one,
	 * in its place
	 * @param droppable whether it may be dropped first when {@code limit} writes wait
	 * @param write runs on the writer thread; throws a {@link DataAccessException} when the store refuses it
	 */
	public void submit(String what, String key, boolean droppable, Runnable write) {
		Write next = new Write(what, key, droppable, write);
		synchronized (this.lock) {
			Write queued = (key != null) ? this.keyed.get(key) : null;
			if (queued != null && queued != this.running) {
				queued.replaceWith(next);
				return;
			}
			if (this.waiting.size() >= this.limit) {
				drop();
			}
			this.waiting.addLast(next);
			if (key != null) {
				this.keyed.put(key, next);
			}
			if (!this.scheduled && this.failure == null) {
				this.scheduled = true;
				try {
					this.thread.execute(this::drain);
				}
				catch (RejectedExecutionException ex) {
					// shut down: what is still submitted (an alert marked during shutdown) is counted as not done
					logger.debug("Store write {} after shutdown, not done", what);
				}
			}
		}
	}

	private void drop() {
		Write victim = null;
		for (Write queued : this.waiting) {
			if (queued.droppable() && queued != this.running) {
				victim = queued;
				break;
			}
		}
		if (victim == null) {
			victim = (this.waiting.peekFirst() != this.running) ? this.waiting.peekFirst() : null;
		}
		if (victim == null) {
			return;
		}
		forget(victim);
		countDrop();
		if (!this.dropLogged) {
			this.dropLogged = true;
			logger.warn("{} store writes wait in memory, the limit: dropping the oldest ({}), first of all timeline "
					+ "points; every drop is counted in pglockwatch_store_writes_dropped_total", this.limit,
					victim.what());
		}
	}

	// under the lock
	private void forget(Write write) {
		this.waiting.remove(write);
		if (write.key() != null) {
			this.keyed.remove(write.key(), write);
		}
	}

	private void countDrop() {
		this.dropped.incrementAndGet();
		Counter counter = this.droppedCounter;
		if (counter != null) {
			counter.increment();
		}
	}

	private void drain() {
		while (true) {
			Write next;
			synchronized (this.lock) {
				next = this.waiting.peekFirst();
				if (next == null) {
					this.scheduled = false;
					return;
				}
				this.running = next;
			}
			try {
				next.run();
			}
			catch (StaleEpochException ex) {
				// written for a shard that another replica leads now: that replica continues from the store
				logger.warn("Store write {} refused: {}", next.what(), ex.getMessage());
			}
			catch (DataIntegrityViolationException | IncorrectResultSizeDataAccessException ex) {
				// the store works but refuses this write for good (e.g. its incident was dropped): retrying it would
				// hold up every write behind it
				logger.error("Store write {} refused as invalid, skipped: {}", next.what(), describe(ex));
				countDrop();
			}
			catch (DataAccessException ex) {
				synchronized (this.lock) {
					this.running = null;
				}
				failed(next, ex);
				this.thread.schedule(this::drain, this.retryDelay.toMillis(), TimeUnit.MILLISECONDS);
				return;
			}
			catch (RuntimeException ex) {
				logger.error("Store write {} failed with a bug, not a store error; skipped", next.what(), ex);
			}
			synchronized (this.lock) {
				this.running = null;
				forget(next);
			}
			this.done.incrementAndGet();
			recovered();
		}
	}

	private void failed(Write write, DataAccessException ex) {
		Failure current = this.failure;
		if (current == null) {
			this.failure = new Failure(this.clock.instant(), describe(ex));
			this.retryDelay = FIRST_RETRY;
			logger.warn("Store writes are failing ({}: {}); writes wait in memory (at most {}) and are retried, "
					+ "polls and pages go on", write.what(), describe(ex), this.limit);
		}
		else {
			this.failure = new Failure(current.since(), describe(ex));
			Duration doubled = this.retryDelay.multipliedBy(2);
			this.retryDelay = (doubled.compareTo(MAX_RETRY) > 0) ? MAX_RETRY : doubled;
		}
	}

	private void recovered() {
		Failure current = this.failure;
		if (current == null) {
			return;
		}
		int left;
		synchronized (this.lock) {
			left = this.waiting.size();
		}
		if (left > 0) {
			return; // still catching up: recovered once the backlog is written
		}
		this.failure = null;
		this.dropLogged = false;
		logger.info("Store writes work again after {} s; every waiting write is done ({} dropped in all)",
				Duration.between(current.since(), this.clock.instant()).toSeconds(), this.dropped.get());
	}

	/** Why writes fail: the exception's class and its root cause's message, without the SQL it ran. */
	private static String describe(DataAccessException ex) {
		Throwable root = ex.getMostSpecificCause();
		String message = (root.getMessage() != null) ? root.getMessage() : root.getClass().getSimpleName();
		int newline = message.indexOf('\n');
		return ex.getClass().getSimpleName() + ": " + ((newline > 0) ? message.substring(0, newline) : message);
	}

	/** Since when writes have failed, and why; null while the store takes them. */
	public Failure failure() {
		return this.failure;
	}

	/** Writes waiting in memory (including the one under way). */
	public int waiting() {
		synchronized (this.lock) {
			return this.waiting.size();
		}
	}

	/** Writes dropped since start because {@code limit} were waiting. */
	public long dropped() {
		return this.dropped.get();
	}

	/**
	 * Waits until every write submitted so far is done (for tests and an orderly shutdown).
	 * @throws IllegalStateException when they are not done within {@code timeout}, e.g. while the store is failing
	 */
	public void flush(Duration timeout) {
		Instant deadline = Instant.now().plus(timeout);
		while (waiting() > 0) {
			if (Instant.now().isAfter(deadline)) {
				Failure current = this.failure;
				throw new IllegalStateException(waiting() + " store write(s) not done within " + timeout
						+ ((current != null) ? "; writes fail since " + current.since() + ": " + current.error() : ""));
			}
			try {
				Thread.sleep(10);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new IllegalStateException("interrupted while waiting for store writes", ex);
			}
		}
	}

	/** Stops the thread; writes still waiting are lost (logged). */
	public void shutdown() {
		int left = waiting();
		if (left > 0) {
			logger.warn("Stopping with {} store write(s) not done", left);
		}
		this.thread.shutdownNow();
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		Gauge.builder("pglockwatch.store.writes.failing", this, (w) -> (w.failure() != null) ? 1 : 0)
			.description("1 while writes to the incident store fail (they wait in memory and are retried), else 0")
			.register(registry);
		Gauge.builder("pglockwatch.store.writes.waiting", this, StoreWriter::waiting)
			.description("Writes to the incident store waiting in memory")
			.register(registry);
		this.droppedCounter = Counter.builder("pglockwatch.store.writes.dropped")
			.description("Writes to the incident store dropped because the memory limit of waiting writes was reached")
			.register(registry);
		this.droppedCounter.increment(this.dropped.get());
	}

	/**
	 * @param since the first refused write of this spell
	 * @param error the latest refusal, without SQL text
	 */
	public record Failure(Instant since, String error) {
	}

	private static final class Write {

		private final String key;

		private final boolean droppable;

		private String what;

		private Runnable write;

		Write(String what, String key, boolean droppable, Runnable write) {
			this.what = what;
			this.key = key;
			this.droppable = droppable;
			this.write = write;
		}

		String key() {
			return this.key;
		}

		boolean droppable() {
			return this.droppable;
		}

		synchronized String what() {
			return this.what;
		}

		synchronized void replaceWith(Write newer) {
			this.what = newer.what;
			this.write = newer.write;
		}

		void run() {
			Runnable current;
			synchronized (this) {
				current = this.write;
			}
			current.run();
		}

	}

}
