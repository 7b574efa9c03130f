package io.pglockwatch.poll;

import java.time.Duration;

import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.lock.LockSnapshot;

/**
 * The result of one poll, handed to every {@link PollListener}.
 *
 * @param snapshot the read (null when the poll failed)
 * @param graph the graph built from it (null when the poll failed)
 * @param failure why it failed, else null
 * @param startDelay how long after its scheduled tick the poll started on a worker
 * @param overruns ticks skipped since the previous poll started, because that poll was still running
 */
public record PollOutcome(String target, TargetState state, Duration duration, LockSnapshot snapshot,
		LockWaitGraph graph, PollFailure failure, String error, Duration startDelay, long overruns) {

	public boolean succeeded() {
		return this.failure == null;
	}

}
