package io.pglockwatch.dashboard;

import java.util.List;

import io.pglockwatch.alert.AlertPayloads;
import io.pglockwatch.alert.OutboxEntry;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.SessionFacts;
import io.pglockwatch.detect.TimelinePoint;
import io.pglockwatch.guard.GuardRecord;

/**
 * An incident as Markdown, to paste into a postmortem. Names (relation, application, user, database, prepared
 * transaction) and statements come from whoever can connect to the target, and the export is rendered wherever it
 * is pasted: names are escaped so they stay text, and each statement is fenced with more backticks than it holds, so
 * nothing in it can close its code block.
 */
final class IncidentMarkdown {

	/** ASCII punctuation that means something to Markdown (CommonMark and GitHub's tables and strikethrough). */
	private static final String PUNCTUATION = "\\`*_{}[]()#+-.!|~";

	private IncidentMarkdown() {
	}

	static String of(Incident i, List<TimelinePoint> timeline, List<OutboxEntry> alerts, List<GuardRecord> guard) {
		StringBuilder md = new StringBuilder();
		md.append("# ").append(i.kind().label()).append(" on ").append(text(i.target())).append("\n\n");
		md.append("> ").append(text(AlertPayloads.summary(i))).append("\n\n");
		md.append("| | |\n|---|---|\n");
		row(md, "Incident", text(i.id()));
		row(md, "Severity", i.severity().label());
		row(md, "State", i.state().label());
		row(md, "Opened", String.valueOf(i.openedAt()));
		row(md, "Escalated", i.escalatedAt() == null ? "-" : i.escalatedAt().toString());
		row(md, "Resolved", i.resolvedAt() == null ? "-" : i.resolvedAt().toString());
		row(md, "Database", text(i.database()));
		row(md, "Relation", i.relation() == null ? "-" : text(i.relation()));
		row(md, "Peak queue depth", String.valueOf(i.peakQueueDepth()));
		row(md, "Longest wait", i.peakMaxWait() == null ? "-" : Format.duration(i.peakMaxWait()));
		if (i.ddl() != null) {
			md.append("\n## Waiting DDL\n\n");
			session(md, i.ddl().session());
			md.append("- mode: ").append(i.ddl().mode().pgName()).append(" on ").append(text(i.ddl().relation())).append('\n');
			md.append("- waited: ").append(Format.duration(i.ddl().waited())).append('\n');
		}
		if (i.rootBlocker() != null) {
			md.append("\n## Root blocker\n\n");
			session(md, i.rootBlocker());
		}
		md.append("\n## Timeline\n\n| time | queued | longest wait (s) |\n|---|---|---|\n");
		int step = Math.max(1, timeline.size() / 60);
		for (int k = 0; k < timeline.size(); k += step) {
			TimelinePoint p = timeline.get(k);
			md.append("| ").append(p.at()).append(" | ").append(p.queueDepth()).append(" | ")
				.append(p.maxWait().toMillis() / 1000.0).append(" |\n");
		}
		md.append("\n## Alerts\n\n");
		if (alerts.isEmpty()) {
			md.append("none\n");
		}
		for (OutboxEntry a : alerts) {
			md.append("- ").append(a.channel().label()).append(' ').append(a.action().label()).append(' ')
				.append(text(a.dedupKey())).append(": ").append(a.state().label())
				.append(a.sentAt() == null ? "" : " at " + a.sentAt()).append('\n');
		}
		md.append("\n## Guard actions\n\n");
		if (guard.isEmpty()) {
			md.append("none\n");
		}
		else {
			md.append("| time | action | by | mode | session | outcome | why |\n|---|---|---|---|---|---|---|\n");
		}
		for (GuardRecord g : guard) {
			md.append("| ").append(g.at()).append(" | ").append(g.action().label()).append(" | ").append(text(g.actor()))
				.append(" | ").append(g.mode() == null ? "-" : g.mode().label()).append(" | pid ").append(g.pid())
				.append(" (app ").append(text(g.applicationName())).append(", user ").append(text(g.user()))
				.append(") | ").append(g.outcome().label()).append(" | ")
				.append(g.reason() == null ? "-" : text(g.reason())).append(" |\n");
		}
		return md.toString();
	}

	/** A value we produced (a time, a number, a label) or one already passed through {@link #text}. */
	private static void row(StringBuilder md, String name, String value) {
		md.append("| ").append(name).append(" | ").append(value == null ? "-" : value).append(" |\n");
	}

	private static void session(StringBuilder md, SessionFacts s) {
		md.append("- pid ").append(s.pid())
			.append(s.preparedGid() == null ? "" : " (prepared " + text(s.preparedGid()) + ")")
			.append(", ").append(text(s.state())).append(", app ").append(text(s.applicationName())).append(", user ")
			.append(text(s.user())).append(", client ").append(text(s.clientAddress())).append('\n');
		if (s.transactionAge() != null) {
			md.append("- transaction open for ").append(Format.duration(s.transactionAge())).append('\n');
		}
		if (s.statement() != null) {
			String fence = fence(s.statement());
			md.append("- statement:\n\n").append(fence).append("sql\n").append(s.statement()).append('\n').append(fence)
				.append('\n');
		}
	}

	/**
	 * A run of backticks longer than any in {@code code} (at least three): in CommonMark a fence is closed only by at
	 * least as many backticks as opened it, so the code cannot end its own block.
	 */
	static String fence(String code) {
		int longest = 0;
		int run = 0;
		for (int k = 0; k < code.length(); k++) {
			run = (code.charAt(k) == '`') ? run + 1 : 0;
			longest = Math.max(longest, run);
		}
		return "`".repeat(Math.max(3, longest + 1));
	}

	/**
	 * Someone else's text as inline Markdown that reads as itself: Markdown punctuation backslash-escaped, {@code <},
	 * {@code >} and {@code &} as entities (no raw HTML, no autolink), line breaks as entities so that nothing starts a
	 * line of its own (a heading, a list, the end of a table row).
	 */
	static String text(String value) {
		if (value == null) {
			return "-";
		}
		StringBuilder out = new StringBuilder(value.length() + 16);
		for (int k = 0; k < value.length(); k++) {
			char c = value.charAt(k);
			switch (c) {
				case '<' -> out.append("&lt;");
				case '>' -> out.append("&gt;");
				case '&' -> out.append("&amp;");
				case '\n' -> out.append("&#10;");
				case '\r' -> out.append("&#13;");
				default -> {
					if (PUNCTUATION.indexOf(c) >= 0) {
						out.append('\\');
					}
					out.append(c);
				}
			}
		}
		return out.toString();
	}

}
