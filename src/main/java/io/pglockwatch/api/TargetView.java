package io.pglockwatch.api;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToIntFunction;

import io.pglockwatch.cluster.Cluster;
import io.pglockwatch.cluster.ShardState;
import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.lock.Standby;
import io.pglockwatch.poll.TargetState;
import io.swagger.v3.oas.annotations.media.Schema;

/**
 * One target in {@code GET /api/v1/targets}.
 *
 * @param up null until the first poll finished
 * @param lockWaiters sessions waiting for a lock at the last successful poll; null while down
 * @param failureReason connect, timeout, permission or query while down
 * @param warning e.g. a missing privilege
 * @param guardProblem why the guard could not act on this target the last time it tried (e.g. not permitted)
 * @param shard the target's shard among {@code pglockwatch.cluster.shards}
 * @param watchedBy the {@code instance-name} of the replica that leads the target's shard (records its incidents,
 * alerts and guards), null while none is known
 * @param role {@code primary} or {@code standby} (a hot standby, in recovery) as of the latest successful poll; null
 * before one
 * @param replayLagSeconds on a standby, the age of the last transaction replayed from the primary; null elsewhere
 * @param replayWait on a standby whose replay waits for queries there (a lock, buffer pin or snapshot they hold),
 * what the startup process waits for, e.g. {@code Lock: relation}; null otherwise
 * @param longestWaitSeconds how long the session that has waited longest for a lock has waited, at the latest
 * successful poll; 0 when nobody waits, null unless {@code up} is true
 */
@Schema(description = "A target's state as of its latest poll (docs/api.md#get-apiv1targets)")
public record TargetView(String name, Boolean up, Instant lastPollAt, Instant lastSuccessfulPollAt, String serverVersion,
		Long lockWaiters, Integer ddlQueueDepth, int openIncidents, String error, String failureReason,
		String warning, String guardProblem, int shard, String watchedBy, String role, Double replayLagSeconds,
		String replayWait, Double longestWaitSeconds) {

	public static TargetView of(TargetState state, int openIncidents, Cluster cluster) {
		return of(state, openIncidents, null, cluster);
	}

	public static TargetView of(TargetState state, int openIncidents, String guardProblem, Cluster cluster) {
		return of(state, openIncidents, guardProblem, cluster, cluster.shardStates());
	}

	/** Every target's view, in configuration order, with the shards' leaders read once. */
	public static List<TargetView> all(List<TargetState> states, ToIntFunction<String> openIncidents,
			Function<String, String> guardProblem, Cluster cluster) {
		Map<Integer, ShardState> leaders = cluster.shardStates();
		return states.stream()
			.map((s) -> of(s, openIncidents.applyAsInt(s.name()), guardProblem.apply(s.name()), cluster, leaders))
			.toList();
	}

	private static TargetView of(TargetState state, int openIncidents, String guardProblem, Cluster cluster,
			Map<Integer, ShardState> leaders) {
		LockWaitGraph graph = state.freshGraph();
		int shard = cluster.shardOf(state.name());
		ShardState leader = leaders.get(shard);
		return new TargetView(state.name(), state.up(), state.lastPollAt(), state.lastSuccessAt(), state.serverVersion(),
				graph == null ? null : graph.lockWaiterCount(),
				graph == null ? null : (graph.ddlQueues().isEmpty() ? 0 : graph.deepestDdlQueue().queueDepth()),
				openIncidents, state.error(), state.failure() == null ? null : state.failure().label(),
				state.privilegeWarning(), guardProblem, shard, (leader != null) ? leader.leader() : null, state.role(),
				replayLag(state), replayWait(state), (graph != null) ? graph.maxWait().toMillis() / 1000.0 : null);
	}

	private static Double replayLag(TargetState state) {
		Standby standby = state.standby();
		if (standby == null || state.graph() == null) {
			return null;
		}
		Duration lag = standby.replayLag(state.graph().takenAt());
		return (lag != null) ? lag.toMillis() / 1000.0 : null;
	}

	private static String replayWait(TargetState state) {
		Standby standby = state.standby();
		return (standby != null && Standby.replayWaitsForQueries(standby.replayWait())) ? standby.replayWait() : null;
	}

}
