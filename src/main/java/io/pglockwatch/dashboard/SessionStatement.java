package io.pglockwatch.dashboard;

import io.pglockwatch.api.GraphView;
import io.pglockwatch.detect.SessionFacts;

/**
 * One session's whole statement, for the page that pages with excerpts link to. The statement is already shaped by
 * {@code pglockwatch.query-text}, like everything else the service shows.
 *
 * @param heading what the session was, e.g. "Waiting DDL of incident ..." or "Live on orders"
 * @param backPath the page the link came from, context-relative
 */
record SessionStatement(String heading, String backPath, String backLabel, int pid, String state,
		String applicationName, String user, String database, String commandTag, String statement) {

	static SessionStatement of(GraphView.Session s, String heading, String backPath, String backLabel) {
		return new SessionStatement(heading, backPath, backLabel, s.pid(), s.state(), s.applicationName(), s.user(),
				s.database(), s.commandTag(), s.query());
	}

	static SessionStatement of(SessionFacts s, String heading, String backPath, String backLabel) {
		return new SessionStatement(heading, backPath, backLabel, s.pid(), s.state(), s.applicationName(), s.user(),
				s.database(), s.commandTag(), s.statement());
	}

}
