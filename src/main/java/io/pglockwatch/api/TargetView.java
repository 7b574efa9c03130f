package io.pglockwatch.api;

import java.time.Instant;

import io.pglockwatch.graph.LockWaitGraph;
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
 */
@Schema(description = "A target's state as of its latest poll (docs/api.md#get-apiv1targets)")
public record TargetView(String name, Boolean up, Instant lastPollAt, Instant lastSuccessfulPollAt, String serverVersion,
		Long lockWaiters, Integer ddlQueueDepth, int openIncidents, String error, String failureReason,
		String warning, String guardProblem) {

	public static TargetView of(TargetState state, int openIncidents) {
		return of(state, openIncidents, null);
	}

	public static TargetView of(TargetState state, int openIncidents, String guardProblem) {
		LockWaitGraph graph = state.freshGraph();
		return new TargetView(state.name(), state.up(), state.lastPollAt(), state.lastSuccessAt(), state.serverVersion(),
				graph == null ? null : graph.lockWaiterCount(),
				graph == null ? null : (graph.ddlQueues().isEmpty() ? 0 : graph.deepestDdlQueue().queueDepth()),
				openIncidents, state.error(), state.failure() == null ? null : state.failure().label(),
				state.privilegeWarning(), guardProblem);
	}

}
