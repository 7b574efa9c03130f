package io.pglockwatch.api;

import java.util.List;
import java.util.Locale;

import io.pglockwatch.alert.AlertOutbox;
import io.pglockwatch.alert.OutboxEntry;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

/** {@code /api/v1/alerts}: alert events by delivery state, so one that keeps failing stays visible. */
@RestController
@RequestMapping(path = "/api/v1/alerts", produces = "application/json")
@Tag(name = "alerts", description = "Alert events (PagerDuty, webhooks) and how their delivery went")
class AlertApiController {

	private final AlertOutbox outbox;

	AlertApiController(AlertOutbox outbox) {
		this.outbox = outbox;
	}

	@Operation(summary = "Alert events in one delivery state", description = "So that an event that keeps failing "
			+ "stays visible.")
	@ApiResponse(responseCode = "200", description = "The events in this state")
	@ApiResponse(responseCode = "503", description = IncidentApiController.STORE_UNAVAILABLE)
	@GetMapping
	List<IncidentView.Alert> alerts(
			@Parameter(description = "pending (not yet accepted), sent, or failed (refused for good)",
					schema = @Schema(allowableValues = { "pending", "sent", "failed" }, defaultValue = "pending"))
			@RequestParam(defaultValue = "pending") String state,
			@Parameter(description = "at most this many events",
					schema = @Schema(minimum = "1", maximum = "1000", defaultValue = "100"))
			@RequestParam(defaultValue = "100") int limit) {
		OutboxEntry.State parsed;
		try {
			parsed = OutboxEntry.State.valueOf(state.toUpperCase(Locale.ROOT));
		}
		catch (IllegalArgumentException ex) {
			throw new ResponseStatusException(HttpStatus.BAD_REQUEST,
					"state must be 'pending', 'failed' or 'sent', not '" + state + "'");
		}
		if (limit < 1 || limit > IncidentApiController.MAX_LIMIT) {
			throw new ResponseStatusException(HttpStatus.BAD_REQUEST,
					"limit must be between 1 and " + IncidentApiController.MAX_LIMIT + ", not " + limit);
		}
		return this.outbox.inState(parsed, limit).stream().map(IncidentView.Alert::of).toList();
	}

}
