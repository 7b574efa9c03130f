package io.pglockwatch.poll;

import java.net.SocketTimeoutException;
import java.sql.SQLException;
import java.util.Locale;

/** Why a poll failed: the {@code reason} label of {@code pglockwatch_poll_failures_total}. */
public enum PollFailure {

	/** The server refused, was unreachable, or rejected the login. */
	CONNECT,

	/** The read outlived its deadline, statement_timeout or lock_timeout. */
	TIMEOUT,

	/** The role lacks a privilege the read needs. */
	PERMISSION,

	/** Any other error of the read. */
	QUERY;

	public String label() {
		return name().toLowerCase(Locale.ROOT);
	}

	/** Classifies an exception from connecting or reading by its SQLSTATE and cause. */
	public static PollFailure classify(Throwable failure) {
		for (Throwable t = failure; t != null; t = t.getCause()) {
			if (t instanceof SocketTimeoutException) {
				return TIMEOUT;
			}
		}
		String state = (failure instanceof SQLException sql) ? sql.getSQLState() : null;
		if (state == null) {
			return (failure instanceof SQLException) ? CONNECT : QUERY;
		}
		if (state.equals("57014") || state.equals("55P03")) {
			return TIMEOUT; // statement_timeout, lock_timeout
		}
		if (state.equals("42501")) {
			return PERMISSION;
		}
		if (state.startsWith("08") || state.startsWith("28") || state.equals("3D000") || state.startsWith("57P")
				|| state.equals("53300")) {
			return CONNECT;
		}
		return QUERY;
	}

}
