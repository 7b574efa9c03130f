package io.pglockwatch.guard;

import java.time.Instant;

import io.pglockwatch.detect.SessionFacts;

/**
 * One decision of {@link GuardPolicy} about one session.
 *
 * @param session the session as seen at the poll
 * @param queryStart the statement it ran then: a signal goes out only if it still runs that one
 * @param incident the dedup key of the incident it belongs to
 * @param outcome what was decided (dry-run, excluded, skipped, still-blocking), or null when the session is to be
 * signalled: the signal's result is the outcome then
 * @param reason why; for a signal, what is recorded when it succeeds
 */
public record GuardDecision(GuardAction action, SessionFacts session, Instant queryStart, String incident,
		GuardOutcome outcome, String reason) {

	/** Enforce: hand the session to the signaller. */
	public boolean signals() {
		return this.outcome == null;
	}

}
