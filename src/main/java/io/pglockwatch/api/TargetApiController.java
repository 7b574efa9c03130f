package io.pglockwatch.api;

import java.util.List;

import io.pglockwatch.guard.Guard;
import io.pglockwatch.incident.IncidentRecorder;
import io.pglockwatch.poll.TargetState;
import io.pglockwatch.poll.TargetStatus;

import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

/** {@code /api/v1/targets}: every target's state, and one target's live wait graph. */
@RestController
@RequestMapping(path = "/api/v1/targets", produces = "application/json")
public class TargetApiController {

	private final TargetStatus status;

	private final IncidentRecorder incidents;

	private final Guard guard;

	TargetApiController(TargetStatus status, IncidentRecorder incidents, Guard guard) {
		this.status = status;
		this.incidents = incidents;
		this.guard = guard;
	}

	@GetMapping
	List<TargetView> targets() {
		return this.status.all().stream().map((s) -> TargetView.of(s, this.incidents.openCount(s.name()), this.guard.problem(s.name()))).toList();
	}

	@GetMapping("/{name}")
	TargetView target(@PathVariable String name) {
		return TargetView.of(state(name), this.incidents.openCount(name), this.guard.problem(name));
	}

	@GetMapping("/{name}/graph")
	GraphView graph(@PathVariable String name) {
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
