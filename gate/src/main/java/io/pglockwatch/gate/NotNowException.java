package io.pglockwatch.gate;

import java.util.List;

/** Thrown from the gate's callback to stop an attempt before it starts: a session is in the way. */
final class NotNowException extends RuntimeException {

	final transient List<Blocker> blockers;

	NotNowException(String message, List<Blocker> blockers) {
		super(message, null, false, false);
		this.blockers = List.copyOf(blockers);
	}

}
