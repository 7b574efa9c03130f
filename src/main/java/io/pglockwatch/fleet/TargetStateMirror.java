package io.pglockwatch.fleet;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.pglockwatch.cluster.Cluster;
import io.pglockwatch.poll.PollListener;
import io.pglockwatch.poll.PollOutcome;
import io.pglockwatch.poll.TargetStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.dao.DataAccessException;
import org.springframework.transaction.TransactionException;

/**
 * Shows the targets other replicas poll: every {@link #READ_EVERY} it reads the states published since its last read
 * and puts those of targets this replica does not poll into the {@link TargetStatus}, so the dashboard and the API
 * answer for every target of the cluster. A target this replica stops polling is read again at once, whenever it was
 * published. Only with a store other replicas share (PostgreSQL).
 */
final class TargetStateMirror implements PollListener {

	private static final Logger logger = LoggerFactory.getLogger(TargetStateMirror.class);

	static final Duration READ_EVERY = Duration.ofSeconds(1);

	/**
	 * How far back each read reaches before the newest row it saw: a row is stamped when its transaction starts, so
	 * one that commits after a read may be stamped before the newest row that read saw.
	 */
	private static final Duration OVERLAP = Duration.ofSeconds(2);

	private final Cluster cluster;

	private final TargetStateTable table;

	private final TargetStatus status;

	/** When the state shown for each target was published. */
	private final Map<String, Instant> shown = new ConcurrentHashMap<>();

	/** Targets to read whenever they were published: this replica stopped polling them. */
	private final Set<String> reread = ConcurrentHashMap.newKeySet();

	private volatile Instant newest = Instant.EPOCH;

	private volatile boolean failing;

	TargetStateMirror(Cluster cluster, TargetStateTable table, TargetStatus status) {
		this.cluster = cluster;
		this.table = table;
		this.status = status;
	}

	@Override
	public void onPoll(PollOutcome outcome) {
	}

	@Override
	public void onWatch(String target, boolean watching) {
		this.shown.remove(target);
		if (!watching) {
			this.reread.add(target);
		}
	}

	/** Reads what was published since the last read. */
	void read() {
		try {
			if (!this.cluster.sharedStore()) {
				return;
			}
			List<String> again = new ArrayList<>(this.reread);
			List<TargetStateTable.Stored> rows = new ArrayList<>(this.table.of(again));
			this.reread.removeAll(again);
			Instant since = this.newest.equals(Instant.EPOCH) ? Instant.EPOCH : this.newest.minus(OVERLAP);
			rows.addAll(this.table.since(since));
			for (TargetStateTable.Stored row : rows) {
				show(row);
			}
			if (this.failing) {
				this.failing = false;
				logger.info("The states of targets other replicas poll are read from the store again");
			}
		}
		catch (DataAccessException | TransactionException ex) {
			if (!this.failing) {
				this.failing = true;
				logger.warn("Cannot read the states of targets other replicas poll; they show as last read: {}",
						ex.getMessage());
			}
		}
	}

	private void show(TargetStateTable.Stored row) {
		if (row.publishedAt().isAfter(this.newest)) {
			this.newest = row.publishedAt();
		}
		if (this.status.get(row.name()) == null || this.status.watched(row.name())) {
			return;
		}
		Instant before = this.shown.get(row.name());
		if (before != null && !row.publishedAt().isAfter(before)) {
			return;
		}
		try {
			this.status.mirror(StoredTargetState.read(row.json()).toState());
			this.shown.put(row.name(), row.publishedAt());
		}
		catch (IllegalArgumentException ex) {
			logger.debug("Skipping the state of target {} published by {}: {}", row.name(), row.holder(),
					ex.getMessage());
		}
	}

}
