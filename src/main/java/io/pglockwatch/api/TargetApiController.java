package io.pglockwatch.api;

import java.util.List;

import io.pglockwatch.cluster.Cluster;
import io.pglockwatch.guard.Guard;
import io.pglockwatch.incident.IncidentRecorder;
import io.pglockwatch.poll.TargetState;
import io.pglockwatch.poll.TargetStatus;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

/** {@code /api/v1/targets}: every target's state, and one target's live wait graph. */
@RestController
@RequestMapping(path = "/api/v1/targets", produces = "application/json")
@Tag(name = "targets", description = "The monitored PostgreSQL servers: their state and live lock-wait graphs")
public class TargetApiController {

	static final String TARGET_NAME = "A target's name, as configured in pglockwatch.targets[N].name";

	private final TargetStatus status;

	private final IncidentRecorder incidents;

	private final Guard guard;

	private final Cluster cluster;

	TargetApiController(TargetStatus status, IncidentRecorder incidents, Guard guard, Cluster cluster) {
		this.cluster = cluster;
		this.status = status;
		this.incidents = incidents;
		this.guard = guard;
	}

	@Operation(summary = "Every configured target's state", description = "In configuration order, as of each target's latest poll.")
	@ApiResponse(responseCode = "200", description = "One entry per configured target")
	@GetMapping
	List<TargetView> targets() {
		return TargetView.all(this.status.all(), this.incidents::openCount, this.guard::problem, this.cluster);
	}

	@Operation(summary = "One target's state")
	@ApiResponse(responseCode = "200", description = "The target's state")
	@ApiResponse(responseCode = "404", description = "No target of this name is configured")
	@GetMapping("/{name}")
	TargetView target(@Parameter(description = TARGET_NAME) @PathVariable String name) {
		return TargetView.of(state(name), this.incidents.openCount(name), this.guard.problem(name), this.cluster);
	}

	@Operation(summary = "A target's live lock-wait graph",
			description = "Who waits for whom, as of the target's latest successful poll: the edges are what "
					+ "pg_blocking_pids() reports. A graph with no sessions means nobody waits for a lock.")
	@ApiResponse(responseCode = "200", description = "The graph")
	@ApiResponse(responseCode = "404", description = "No target of this name is configured")
	@ApiResponse(responseCode = "503", description = "The target has not been polled yet, or its latest poll failed "
			+ "(an older graph is not served: its sessions may be gone)")
	@GetMapping("/{name}/graph")
	GraphView graph(@Parameter(description = TARGET_NAME) @PathVariable String name) {
		TargetState state = state(name);
		if (state.freshGraph() == null) {
			String why = (state.up() == null) ? "has not been polled yet"
					: "is down (" + state.failure().label() + "): " + state.error();
			throw new ResponseStatusException(HttpStatus.SERVICE_UNAVAILABLE, "target " + name + " " + why);
		}
		return GraphView.of(state.freshGraph());
	}

	private TargetState state(String name) {
		TargetState state = this.status.get(name);
		if (state == null) {
			throw new ResponseStatusException(HttpStatus.NOT_FOUND,
					"unknown target '" + name + "'; configured: " + this.status.names());
		}
		return state;
	}

}
