package io.pglockwatch.api;

import java.util.List;

import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.detect.IncidentState;
import io.pglockwatch.incident.IncidentQuery;
import io.pglockwatch.incident.IncidentStore;
import io.pglockwatch.poll.TargetStatus;

import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

/** {@code /api/v1/incidents}: incident history, newest first, and one incident in full. */
@RestController
@RequestMapping(path = "/api/v1/incidents", produces = "application/json")
class IncidentApiController {

	static final int MAX_LIMIT = 1000;

	private final IncidentStore store;

	private final TargetStatus targets;

	private final IncidentDetails details;

	IncidentApiController(IncidentStore store, TargetStatus targets, IncidentDetails details) {
		this.store = store;
		this.targets = targets;
		this.details = details;
	}

	/**
	 * @param state {@code open} (open or escalated) or {@code resolved}; all when absent
	 * @param target a configured target's name
	 * @param kind ddl-lock-queue, blocking-chain or idle-blocker
	 */
	@GetMapping
	List<IncidentView> incidents(@RequestParam(required = false) String state,
			@RequestParam(required = false) String target, @RequestParam(required = false) String kind,
			@RequestParam(defaultValue = "100") int limit) {
		return this.store.find(query(state, target, kind, limit)).stream().map(IncidentView::of).toList();
	}

	@GetMapping("/{id}")
	IncidentView.Detail incident(@PathVariable String id) {
		return this.details.of(id)
			.orElseThrow(() -> new ResponseStatusException(HttpStatus.NOT_FOUND, "no incident with id '" + id + "'"));
	}

	private IncidentQuery query(String state, String target, String kind, int limit) {
		IncidentState parsedState = null;
		if (state != null) {
			parsedState = switch (state) {
				case "open" -> IncidentState.OPEN;
				case "resolved" -> IncidentState.RESOLVED;
				default -> throw badRequest("state must be 'open' or 'resolved', not '" + state + "'");
			};
		}
		if (target != null && this.targets.get(target) == null) {
			throw badRequest("target '" + target + "' is not configured; configured: " + this.targets.names());
		}
		IncidentKind parsedKind = null;
		if (kind != null) {
			try {
				parsedKind = IncidentKind.of(kind);
			}
			catch (IllegalArgumentException ex) {
				throw badRequest(ex.getMessage());
			}
		}
		if (limit < 1 || limit > MAX_LIMIT) {
			throw badRequest("limit must be between 1 and " + MAX_LIMIT + ", not " + limit);
		}
		return new IncidentQuery(parsedState, target, parsedKind, limit);
	}

	private static ResponseStatusException badRequest(String detail) {
		return new ResponseStatusException(HttpStatus.BAD_REQUEST, detail);
	}

}
