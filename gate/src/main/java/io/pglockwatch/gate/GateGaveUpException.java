package io.pglockwatch.gate;

import java.util.List;

import org.flywaydb.core.api.FlywayException;

/**
 * The gate gave up on a migration: it could not get its locks without making others wait, within {@code
 * max-attempts} attempts and the {@code deadline}. A {@link FlywayException}, so a Spring Boot application stops
 * starting. The message names the sessions that were in the way when the gate last looked.
 */
public class GateGaveUpException extends FlywayException {

	private final String migration;
	private final int attempts;
	private final transient List<Blocker> blockers;

	GateGaveUpException(String message, String migration, int attempts, List<Blocker> blockers, Throwable cause) {
		super(message, cause);
		this.migration = migration;
		this.attempts = attempts;
		this.blockers = List.copyOf(blockers);
	}

	/** {@code V42} or {@code R__description}. */
	public String migration() {
		return migration;
	}

	public int attempts() {
		return attempts;
	}

	/** The sessions in the way, last seen. */
	public List<Blocker> blockers() {
		return blockers;
	}

}
