package io.pglockwatch.fleet;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

import io.pglockwatch.cluster.Cluster;
import io.pglockwatch.cluster.Fence;
import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.lock.LockSnapshot;
import io.pglockwatch.poll.PollFailure;
import io.pglockwatch.poll.PollListener;
import io.pglockwatch.poll.PollOutcome;
import io.pglockwatch.poll.TargetState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.dao.DataAccessException;
import org.springframework.transaction.TransactionException;

/**
 * Publishes the state of every target this replica polls into the store's {@code target_state}, for the other
 * replicas to show: when it changes (up or down, the failure, the server, the role, who waits), at every poll while
 * somebody waits for a lock, and every {@link #HEARTBEAT} otherwise. Polls only hand the state over; a flush every
 * {@link #FLUSH_EVERY} writes the newest state of each target in one batch, so a burst of polls costs one row per
 * flush. Only with a store other replicas share (PostgreSQL).
 *
 * <p>A store that fails loses nothing that matters: the newest state of each target waits for the next flush, and
 * older ones are superseded by it.
 */
final class TargetStatePublisher implements PollListener {

	private static final Logger logger = LoggerFactory.getLogger(TargetStatePublisher.class);

	/** How often an unchanged state is published again, so readers can tell a live poller from a dead one. */
	static final Duration HEARTBEAT = Duration.ofSeconds(5);

	/** How often the states handed over are written. */
	static final Duration FLUSH_EVERY = Duration.ofMillis(500);

	private final Cluster cluster;

	private final TargetStateTable table;

	private final LongSupplier nanoTime;

	/** The newest state of each target not written yet. */
	private final Map<String, Pending> pending = new ConcurrentHashMap<>();

	/** What was last handed over for each target, and when. */
	private final Map<String, Handed> handed = new ConcurrentHashMap<>();

	private volatile boolean failing;

	TargetStatePublisher(Cluster cluster, TargetStateTable table, LongSupplier nanoTime) {
		this.cluster = cluster;
		this.table = table;
		this.nanoTime = nanoTime;
	}

	@Override
	public void onPoll(PollOutcome outcome) {
		Fence fence = this.cluster.fence(outcome.target());
		if (fence == null || !shared()) {
			return;
		}
		Fingerprint fingerprint = Fingerprint.of(outcome.state());
		long now = this.nanoTime.getAsLong();
		Handed before = this.handed.get(outcome.target());
		boolean due = before == null || !before.fingerprint().equals(fingerprint) || fingerprint.waiters() > 0
				|| now - before.nanos() >= HEARTBEAT.toNanos();
		if (!due) {
			return;
		}
		this.handed.put(outcome.target(), new Handed(fingerprint, now));
		this.pending.put(outcome.target(), new Pending(outcome.state(), outcome.snapshot(), fence));
	}

	@Override
	public void onWatch(String target, boolean watching) {
		// a target polled again later is published at its first poll
		this.handed.remove(target);
		if (!watching) {
			this.pending.remove(target);
		}
	}

	/** Writes the states handed over since the last flush. */
	void flush() {
		if (this.pending.isEmpty()) {
			return;
		}
		List<Pending> taken = new ArrayList<>();
		for (String target : List.copyOf(this.pending.keySet())) {
			Pending each = this.pending.remove(target);
			if (each != null) {
				taken.add(each);
			}
		}
		List<TargetStateTable.Row> rows = taken.stream()
			.map((p) -> new TargetStateTable.Row(p.state().name(), p.fence().shard(), p.fence().epoch(),
					StoredTargetState.of(p.state(), p.snapshot()).toJson()))
			.toList();
		try {
			this.table.publish(this.cluster.instanceName(), rows);
			if (this.failing) {
				this.failing = false;
				logger.info("Target states are published to the store again");
			}
		}
		catch (DataAccessException | TransactionException ex) {
			// the newest state of each target waits for the next flush, unless a newer one came meanwhile
			taken.forEach((p) -> this.pending.putIfAbsent(p.state().name(), p));
			if (!this.failing) {
				this.failing = true;
				logger.warn("Cannot publish target states to the store; other replicas show them as they were: {}",
						ex.getMessage());
			}
		}
	}

	private boolean shared() {
		try {
			return this.cluster.sharedStore();
		}
		catch (DataAccessException ex) {
			return false;
		}
	}

	private record Pending(TargetState state, LockSnapshot snapshot, Fence fence) {
	}

	private record Handed(Fingerprint fingerprint, long nanos) {
	}

	/** What makes a state worth publishing at once when it changes. */
	private record Fingerprint(Boolean up, PollFailure failure, String error, int serverVersionNum, String warning,
			String role, long waiters) {

		static Fingerprint of(TargetState state) {
			LockWaitGraph graph = state.freshGraph();
			return new Fingerprint(state.up(), state.failure(), state.error(), state.serverVersionNum(),
					state.privilegeWarning(), Objects.toString(state.role(), null),
					(graph != null) ? graph.lockWaiterCount() : 0);
		}

	}

}
