package io.pglockwatch.api;

import java.util.List;
import java.util.Locale;

import io.pglockwatch.alert.AlertOutbox;
import io.pglockwatch.alert.OutboxEntry;
import io.pglockwatch.api.IncidentView;

import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

/** {@code /api/v1/alerts}: alert events by delivery state, so one that keeps failing stays visible. */
@RestController
@RequestMapping(path = "/api/v1/alerts", produces = "application/json")
class AlertApiController {

	private final AlertOutbox outbox;

	AlertApiController(AlertOutbox outbox) {
		this.outbox = outbox;
	}

	/** @param state pending (not yet accepted), failed (refused for good) or sent */
	@GetMapping
	List<IncidentView.Alert> alerts(@RequestParam(defaultValue = "pending") String state,
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
