package io.pglockwatch.detect;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A migration statement run by the pg-lockwatch gate, as its session's {@code application_name} says:
 * {@code pglockwatch-gate <migration version> attempt <k>/<n>}. The gate sets a short {@code lock_timeout}, cancels
 * its own statement once somebody has waited behind it for its {@code max-victim-wait}, and retries later: a queue
 * behind such a statement ends by itself, so it opens no incident unless it outlives
 * {@code pglockwatch.detection.ddl-queue.gate-grace}.
 *
 * @param migration the migration's version, e.g. {@code V42}
 * @param attempt this attempt, from 1
 * @param attempts the attempts the gate makes at most
 */
public record GateAttempt(String migration, int attempt, int attempts) {

	/** The prefix of every session of the gate. */
	public static final String PREFIX = "pglockwatch-gate ";

	private static final Pattern NAME = Pattern.compile("pglockwatch-gate (\\S+) attempt (\\d{1,6})/(\\d{1,6})");

	/** The attempt an {@code application_name} names, or null when it is not the gate's. */
	public static GateAttempt of(String applicationName) {
		if (applicationName == null || !applicationName.startsWith(PREFIX)) {
			return null;
		}
		Matcher matcher = NAME.matcher(applicationName.strip());
		if (!matcher.matches()) {
			return null;
		}
		return new GateAttempt(matcher.group(1), Integer.parseInt(matcher.group(2)), Integer.parseInt(matcher.group(3)));
	}

	/** {@code migration V42, attempt 3/10 (pg-lockwatch gate)} */
	public String describe() {
		return "migration " + this.migration + ", attempt " + this.attempt + "/" + this.attempts + " (pg-lockwatch gate)";
	}

}
