package io.pglockwatch.dashboard;

import java.util.List;

import io.pglockwatch.alert.AlertPayloads;
import io.pglockwatch.alert.OutboxEntry;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.SessionFacts;
import io.pglockwatch.detect.TimelinePoint;

/** An incident as Markdown, to paste into a postmortem. */
final class IncidentMarkdown {

	private IncidentMarkdown() {
	}

	static String of(Incident i, List<TimelinePoint> timeline, List<OutboxEntry> alerts) {
		StringBuilder md = new StringBuilder();
		md.append("# ").append(i.kind().label()).append(" on ").append(i.target()).append("\n\n");
		md.append("> ").append(AlertPayloads.summary(i)).append("\n\n");
		md.append("| | |\n|---|---|\n");
		row(md, "Incident", i.id());
		row(md, "Severity", i.severity().label());
		row(md, "State", i.state().label());
		row(md, "Opened", String.valueOf(i.openedAt()));
		row(md, "Escalated", i.escalatedAt() == null ? "-" : i.escalatedAt().toString());
		row(md, "Resolved", i.resolvedAt() == null ? "-" : i.resolvedAt().toString());
		row(md, "Database", i.database());
		row(md, "Relation", i.relation() == null ? "-" : i.relation());
		row(md, "Peak queue depth", String.valueOf(i.peakQueueDepth()));
		row(md, "Longest wait", i.peakMaxWait() == null ? "-" : Format.duration(i.peakMaxWait()));
		if (i.ddl() != null) {
			md.append("\n## Waiting DDL\n\n");
			session(md, i.ddl().session());
			md.append("- mode: ").append(i.ddl().mode().pgName()).append(" on ").append(i.ddl().relation()).append('\n');
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
			md.append("- ").append(a.channel().label()).append(' ').append(a.action().label()).append(' ').append(a.dedupKey())
				.append(": ").append(a.state().label()).append(a.sentAt() == null ? "" : " at " + a.sentAt()).append('\n');
		}
		return md.toString();
	}

	private static void row(StringBuilder md, String name, String value) {
		md.append("| ").append(name).append(" | ").append(value == null ? "-" : value.replace("|", "\\|")).append(" |\n");
	}

	private static void session(StringBuilder md, SessionFacts s) {
		md.append("- pid ").append(s.pid()).append(s.preparedGid() == null ? "" : " (prepared " + s.preparedGid() + ")")
			.append(", ").append(s.state()).append(", app ").append(s.applicationName()).append(", user ")
			.append(s.user()).append(", client ").append(s.clientAddress()).append('\n');
		if (s.transactionAge() != null) {
			md.append("- transaction open for ").append(Format.duration(s.transactionAge())).append('\n');
		}
		if (s.statement() != null) {
			md.append("- statement:\n\n```sql\n").append(s.statement()).append("\n```\n");
		}
	}

}
