package io.pglockwatch.api;

import java.util.List;

import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.detect.IncidentState;
import io.pglockwatch.incident.IncidentQuery;
import io.pglockwatch.incident.IncidentStore;
import io.pglockwatch.poll.TargetStatus;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

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
@Tag(name = "incidents", description = "Incident history from the incident store")
class IncidentApiController {

	static final int MAX_LIMIT = 1000;

	static final String STORE_UNAVAILABLE = "The incident store cannot be read right now (the live endpoints of "
			+ "/api/v1/targets still answer; the store health component says why)";

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
	@Operation(summary = "Incident history, newest first")
	@ApiResponse(responseCode = "200", description = "The incidents that match, newest first")
	@ApiResponse(responseCode = "503", description = STORE_UNAVAILABLE)
	@GetMapping
	List<IncidentView> incidents(
			@Parameter(description = "open (open or escalated) or resolved; all when absent",
					schema = @Schema(allowableValues = { "open", "resolved" }))
			@RequestParam(required = false) String state,
			@Parameter(description = "only this target's incidents; a configured target's name")
			@RequestParam(required = false) String target,
			@Parameter(description = "only incidents of this kind; all when absent",
					schema = @Schema(allowableValues = { "ddl-lock-queue", "blocking-chain", "idle-blocker", "replay-lock-queue" }))
			@RequestParam(required = false) String kind,
			@Parameter(description = "at most this many incidents",
					schema = @Schema(minimum = "1", maximum = "1000", defaultValue = "100"))
			@RequestParam(defaultValue = "100") int limit) {
		return this.store.find(query(state, target, kind, limit)).stream().map(IncidentView::of).toList();
	}

	@Operation(summary = "One incident in full", description = "With its timeline, the lock-wait graph at its peak "
			+ "(null when the stored graph cannot be read), its alert events and what the guard did about it.")
	@ApiResponse(responseCode = "200", description = "The incident")
	@ApiResponse(responseCode = "404", description = "No incident with this id")
	@ApiResponse(responseCode = "503", description = STORE_UNAVAILABLE)
	@GetMapping("/{id}")
	IncidentView.Detail incident(@Parameter(description = "The incident's id, as in the history") @PathVariable String id) {
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
