package io.pglockwatch.poll;

import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.lock.LockRow;
import io.pglockwatch.lock.LockSnapshot;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.scheduling.TaskScheduler;

/**
 * Polls one target. {@link #tick()} runs on the shared scheduler once per interval and never blocks: it
 * starts a poll on a worker thread unless the previous one is still running (polls of one target never
 * overlap), fails a poll that outlives its deadline with reason {@code timeout} (aborting its socket), and
 * after connection failures waits with exponential backoff before the next attempt.
 *
 * <p>Bursts: when a poll finds a session waiting for a relation lock in a mode that blocks writes (a DDL that may be
 * forming a queue), the next poll starts one burst interval after this one started instead of at the next tick, and
 * so on until no such wait is left. A burst poll is a poll like any other (never two at once, the same deadline); it
 * is left out when the next tick is less than half a burst interval away, and the ticks keep their fixed rate.
 */
final class TargetPoller {

	private static final Logger logger = LoggerFactory.getLogger(TargetPoller.class);

	private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);

	private final String name;

	private final PollProperties poll;

	private final TargetConnections connections;

	private final LockSnapshotCollector collector;

	private final TargetStatus status;

	private final List<PollListener> listeners;

	private final Executor workers;

	private final Clock clock;

	/** The monotonic clock of durations, deadlines and backoff: {@code System::nanoTime} but in tests. */
	private final LongSupplier nanoTime;

	private final AtomicReference<Attempt> current = new AtomicReference<>();

	/** Where the one-shot burst polls are scheduled: the ticks' own scheduler thread. */
	private final TaskScheduler scheduler;

	/** The burst interval in nanoseconds; 0 when bursts are off. */
	private final long burstNanos;

	/** Whether the latest successful poll found a write-blocking relation lock wait (and bursts are on). */
	private volatile boolean bursting;

	/** Whether a burst poll is scheduled and has not run yet. */
	private final AtomicBoolean burstPending = new AtomicBoolean();

	/** Polls started by a burst rather than a tick, since start. */
	private final AtomicLong burstPolls = new AtomicLong();

	// written when a poll finishes, read by the next tick; meaningful while connectFailures > 0
	private volatile long nextAttemptNanos;

	private volatile int connectFailures;

	/** When tick 0 was due; the scheduler runs at a fixed rate, so tick k is due k intervals later. */
	private final long firstTickNanos;

	/** Ticks so far; only the scheduler thread writes it. */
	private long ticks;

	/** Ticks skipped (the previous poll still running, or a late tick right after the last), since the last poll. */
	private long overruns;

	/** Whether a tick has started a poll yet, and when the latest did; only the scheduler thread writes them. */
	private boolean tickStarted;

	private long lastTickStartNanos;

	/** Whether this replica polls the target. */
	private final TargetAssignment assignment;

	/** Whether the latest tick found this replica polling the target; null before the first tick. */
	private volatile Boolean watching;

	TargetPoller(String name, PollProperties poll, TargetConnections connections,
			LockSnapshotCollector collector, TargetStatus status, List<PollListener> listeners, Executor workers,
			Clock clock, LongSupplier nanoTime, long firstTickNanos, TaskScheduler scheduler, Duration burstInterval,
			TargetAssignment assignment) {
		this.name = name;
		this.assignment = assignment;
		this.scheduler = scheduler;
		this.burstNanos = burstInterval.toNanos();
		this.poll = poll;
		this.connections = connections;
		this.collector = collector;
		this.status = status;
		this.listeners = listeners;
		this.workers = workers;
		this.clock = clock;
		this.nanoTime = nanoTime;
		this.firstTickNanos = firstTickNanos;
	}

	/** Whether the target is polled at the burst interval now. */
	boolean bursting() {
		return this.bursting;
	}

	/** Polls started by a burst since start. */
	long burstPolls() {
		return this.burstPolls.get();
	}

	/**
	 * A burst poll, due at {@code dueNanos}: started unless the burst is over, a poll is still running (its end
	 * schedules the next burst), the latest poll started less than a burst interval ago (the burst waits for its
	 * turn), or the next tick is less than half a burst interval away (the tick's poll goes on with the burst).
	 */
	void burstTick(long dueNanos) {
		this.burstPending.set(false);
		long now = this.nanoTime.getAsLong();
		if (!this.bursting || !Boolean.TRUE.equals(this.watching)) {
			return;
		}
		Attempt running = this.current.get();
		if (running != null && !running.workerDone) {
			return;
		}
		if (running != null && now - running.startedNanos < this.burstNanos - this.burstNanos / 4) {
			scheduleBurst(running.startedNanos + this.burstNanos);
			return;
		}
		long nextTick = this.firstTickNanos + this.ticks * this.poll.interval().toNanos();
		if (nextTick - now < this.burstNanos / 2) {
			return;
		}
		this.burstPolls.incrementAndGet();
		Attempt attempt = new Attempt(now, this.clock.instant(), dueNanos, 0);
		attempt.burst = true;
		start(attempt);
	}

	void tick() {
		long now = this.nanoTime.getAsLong();
		long due = this.firstTickNanos + this.ticks++ * this.poll.interval().toNanos();
		if (!this.assignment.settled()) {
			return;
		}
		if (!watch(this.assignment.watches(this.name))) {
			// sessions a preflight or the guard opened on a target this replica does not poll close within a tick
			this.connections.evictIdle();
			return;
		}
		if (this.tickStarted && now - this.lastTickStartNanos < this.poll.interval().toNanos() * 3 / 4) {
			// a late scheduler runs the ticks it missed back to back (the rate is fixed): the target was polled less
			// than an interval ago, so this tick is skipped and counted rather than adding load when there is least
			this.overruns++;
			return;
		}
		Attempt running = this.current.get();
		if (running != null && !running.workerDone) {
			if (!running.burst) {
				// a burst poll that runs into a tick stands for that tick's poll; only a tick's own poll overruns
				this.overruns++;
			}
			// still on its worker: even after its deadline failed it (say, stuck in a login to a server
			// that never answers), no second poll of this target starts until it lets go
			if (!running.finished.get() && now - running.startedNanos >= this.poll.deadlineDuration().toNanos()) {
				expire(running);
			}
			return;
		}
		// nanoTime readings compare only by their difference: the clock's origin is arbitrary and may be negative
		if (this.connectFailures > 0 && now - this.nextAttemptNanos < 0) {
			return;
		}
		Attempt attempt = new Attempt(now, this.clock.instant(), due, this.overruns);
		this.overruns = 0;
		this.tickStarted = true;
		this.lastTickStartNanos = now;
		start(attempt);
	}

	/**
	 * Starts or stops watching the target when the assignment changed since the last tick; returns whether this
	 * replica polls it now. A poll in flight when the watch ends finishes unseen: its result is another replica's to
	 * report.
	 */
	private boolean watch(boolean watch) {
		Boolean before = this.watching;
		if (before != null && before == watch) {
			return watch;
		}
		this.watching = watch;
		if (watch) {
			this.connectFailures = 0;
		}
		else {
			this.bursting = false;
			this.status.set(TargetState.elsewhere(this.name));
		}
		this.status.watch(this.name, watch);
		if (before != null || !watch) {
			logger.info("Target {}: {}", this.name, watch ? "this replica polls it now (it leads the target's shard)"
					: "polled by the replica that leads its shard from now on");
		}
		for (PollListener listener : this.listeners) {
			try {
				listener.onWatch(this.name, watch);
			}
			catch (RuntimeException ex) {
				logger.error("Poll listener {} failed on a watch change of target {}",
						listener.getClass().getSimpleName(), this.name, ex);
			}
		}
		return watch;
	}

	private void start(Attempt attempt) {
		this.current.set(attempt);
		try {
			this.workers.execute(() -> run(attempt));
		}
		catch (RejectedExecutionException ex) {
			attempt.finished.set(true); // shutting down
			attempt.workerDone = true;
		}
	}

	private void expire(Attempt attempt) {
		Duration deadline = this.poll.deadlineDuration();
		if (attempt.finished.compareAndSet(false, true)) {
			finish(attempt, null, null, PollFailure.TIMEOUT,
					"poll still running after the deadline of " + deadline.toMillis() + " ms");
			Connection connection = attempt.connection;
			if (connection != null) {
				// frees the worker now instead of after the socket timeout; the late result is discarded
				this.workers.execute(() -> abort(connection));
			}
		}
	}

	private void run(Attempt attempt) {
		attempt.workerStartNanos = this.nanoTime.getAsLong();
		Connection connection = null;
		boolean broken = false;
		try {
			if (attempt.finished.get()) {
				// its deadline failed it before it got a worker: no session for a poll nobody waits for
				return;
			}
			connection = this.connections.borrow();
			attempt.connection = connection;
			if (attempt.finished.get()) {
				broken = true;
				return;
			}
			LockSnapshot snapshot = this.collector.read(connection);
			LockWaitGraph graph = LockWaitGraph.of(snapshot);
			if (attempt.finished.compareAndSet(false, true)) {
				finish(attempt, snapshot, graph, null, null);
			}
			else {
				// the deadline won and is aborting this session: it must not go back to the pool for the next poll
				broken = true;
			}
		}
		catch (Exception ex) {
			broken = true;
			if (attempt.finished.compareAndSet(false, true)) {
				finish(attempt, null, null, PollFailure.classify(ex), describe(ex));
			}
		}
		finally {
			this.connections.release(connection, broken);
			attempt.workerDone = true;
		}
	}

	private void finish(Attempt attempt, LockSnapshot snapshot, LockWaitGraph graph, PollFailure failure,
			String error) {
		if (!Boolean.TRUE.equals(this.watching)) {
			return;
		}
		Duration duration = Duration.ofNanos(this.nanoTime.getAsLong() - attempt.startedNanos);
		TargetState previous = this.status.get(this.name);
		TargetState state;
		if (failure == null) {
			state = previous.succeeded(attempt.startedAt, duration, snapshot.serverVersionNum(), graph,
					snapshot.readAllStats() ? null
							: "role lacks pg_monitor (pg_read_all_stats): other roles' sessions show no state, query, client or timestamps",
					snapshot.standby());
			if (Boolean.FALSE.equals(previous.up())) {
				logger.info("Target {} is up again (PostgreSQL {})", this.name, state.serverVersion());
			}
			this.connectFailures = 0;
			burst(attempt, snapshot);
		}
		else {
			state = previous.failed(attempt.startedAt, duration, failure, error);
			if (!failure.equals(previous.failure())) {
				logger.warn("Target {} poll failed ({}): {}", this.name, failure.label(), error);
			}
			if (failure == PollFailure.CONNECT) {
				this.connections.evictIdle();
				this.connectFailures++;
				long backoff = Math.min(MAX_BACKOFF.toNanos(),
						this.poll.interval().toNanos() << Math.min(10, this.connectFailures - 1));
				this.nextAttemptNanos = attempt.startedNanos + backoff;
			}
		}
		this.status.set(state);
		// a poll that never reached a worker (its deadline came first) started as late as the deadline
		long started = (attempt.workerStartNanos != 0) ? attempt.workerStartNanos : this.nanoTime.getAsLong();
		PollOutcome outcome = new PollOutcome(this.name, state, duration, snapshot, graph, failure, error,
				Duration.ofNanos(Math.max(0, started - attempt.dueNanos)), attempt.overruns);
		for (PollListener listener : this.listeners) {
			try {
				listener.onPoll(outcome);
			}
			catch (RuntimeException ex) {
				logger.error("Poll listener {} failed for target {}", listener.getClass().getSimpleName(), this.name, ex);
			}
		}
	}

	/** After a successful poll: schedules the next burst poll while a write-blocking relation lock wait is seen. */
	private void burst(Attempt attempt, LockSnapshot snapshot) {
		boolean wait = this.burstNanos > 0 && waitsForWriteBlockingLock(snapshot);
		if (wait != this.bursting) {
			logger.debug("Target {} {} burst polling", this.name, wait ? "starts" : "ends");
		}
		this.bursting = wait;
		if (!wait) {
			return;
		}
		scheduleBurst(attempt.startedNanos + this.burstNanos);
	}

	/** Schedules the burst poll due at {@code due}, unless one is pending: a burst is one chain of polls. */
	private void scheduleBurst(long due) {
		if (!this.burstPending.compareAndSet(false, true)) {
			return;
		}
		long delay = Math.max(0, due - this.nanoTime.getAsLong());
		try {
			this.scheduler.schedule(() -> burstTick(due), this.scheduler.getClock().instant().plusNanos(delay));
		}
		catch (RejectedExecutionException ex) {
			this.burstPending.set(false); // shutting down
		}
	}

	/** Whether a session waits for a relation lock in a mode that conflicts with RowExclusive. */
	static boolean waitsForWriteBlockingLock(LockSnapshot snapshot) {
		for (LockRow row : snapshot.locks()) {
			if (!row.granted() && row.object().isRelation() && row.mode().blocksWrites()) {
				return true;
			}
		}
		return false;
	}

	private static String describe(Exception ex) {
		String message = ex.getMessage();
		return (message == null || message.isBlank()) ? ex.getClass().getSimpleName() : message;
	}

	private static void abort(Connection connection) {
		try {
			connection.abort(Runnable::run);
		}
		catch (Exception ex) {
			TargetConnections.closeQuietly(connection);
		}
	}

	/** One poll; {@code finished} is won exactly once, by the poll or by its deadline. */
	private static final class Attempt {

		final long startedNanos;

		final Instant startedAt;

		final long dueNanos;

		final long overruns;

		volatile long workerStartNanos;

		final AtomicBoolean finished = new AtomicBoolean();

		volatile Connection connection;

		volatile boolean workerDone;

		/** Started by a burst, not a tick; set before the attempt is handed to a worker. */
		volatile boolean burst;

		Attempt(long startedNanos, Instant startedAt, long dueNanos, long overruns) {
			this.startedNanos = startedNanos;
			this.startedAt = startedAt;
			this.dueNanos = dueNanos;
			this.overruns = overruns;
		}

	}

}
