package io.pglockwatch.target;

import java.time.Duration;

import io.pglockwatch.collect.LockSnapshot;
import io.pglockwatch.graph.LockWaitGraph;

/**
 * The result of one poll, handed to every {@link PollListener}.
 *
 * @param snapshot the read (null when the poll failed)
 * @param graph the graph built from it (null when the poll failed)
 * @param failure why it failed, else null
 */
public record PollOutcome(String target, TargetState state, Duration duration, LockSnapshot snapshot,
		LockWaitGraph graph, PollFailure failure, String error) {

	public boolean succeeded() {
		return this.failure == null;
	}

}
