package io.pglockwatch.poll;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.lock.Standby;

/** Publishes target states for web tests that render a graph without polling a server. */
public final class TargetStates {

	private TargetStates() {
	}

	public static void up(TargetStatus status, String target, LockWaitGraph graph) {
		status.set(TargetState.initial(target).succeeded(Instant.now(), Duration.ofMillis(3), 180001, graph, null, null));
	}

	/** The target polled successfully as a hot standby, replay having committed its last transaction a second ago. */
	public static void standby(TargetStatus status, String target, LockWaitGraph graph) {
		status.set(TargetState.initial(target).succeeded(Instant.now(), Duration.ofMillis(3), 180001, graph, null,
				new Standby(graph.takenAt().minusSeconds(1), 31, "Activity: RecoveryWalStream", Map.of("lock", 0L))));
	}

	/** Back to never polled. */
	public static void reset(TargetStatus status, String target) {
		status.set(TargetState.initial(target));
	}

	public static void down(TargetStatus status, String target, String error) {
		status.set(TargetState.initial(target).failed(Instant.now(), Duration.ofSeconds(2), PollFailure.CONNECT, error));
	}

	/** A failed poll after the target's current state, as the poller records it: the last graph is kept, stale. */
	public static void failed(TargetStatus status, String target, PollFailure failure, String error) {
		status.set(status.get(target).failed(Instant.now(), Duration.ofSeconds(2), failure, error));
	}

}
