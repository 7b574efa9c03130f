package io.pglockwatch.api;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import io.pglockwatch.alert.OutboxEntry;
import io.pglockwatch.detect.DdlFacts;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.SessionFacts;
import io.pglockwatch.detect.TimelinePoint;
import io.pglockwatch.guard.GuardRecord;
import io.swagger.v3.oas.annotations.media.Schema;

/** The JSON form of an incident; durations in seconds. */
@Schema(description = "An incident: a lock situation that crossed its thresholds, from opening to resolution "
		+ "(docs/api.md#incidents); durations in seconds")
public record IncidentView(String id, String dedupKey, String target, String kind, String severity, String state,
		Instant openedAt, Instant escalatedAt, Instant resolvedAt, Instant lastSeenAt, String database, String relation,
		int queueDepth, int peakQueueDepth, Double peakMaxWaitSeconds, Ddl ddl, Session rootBlocker) {

	public static IncidentView of(Incident i) {
		return new IncidentView(i.id(), i.dedupKey(), i.target(), i.kind().label(), i.severity().label(),
				i.state().label(), i.openedAt(), i.escalatedAt(), i.resolvedAt(), i.lastSeenAt(), i.database(),
				i.relation(), i.queueDepth(), i.peakQueueDepth(), seconds(i.peakMaxWait()), Ddl.of(i.ddl()),
				Session.of(i.rootBlocker()));
	}

	private static Double seconds(Duration duration) {
		return duration == null ? null : duration.toMillis() / 1000.0;
	}

	@Schema(description = "The waiting DDL of a ddl-lock-queue incident")
	public record Ddl(Session session, String mode, String relation, Double waitSeconds) {

		public static Ddl of(DdlFacts ddl) {
			return ddl == null ? null
					: new Ddl(Session.of(ddl.session()), ddl.mode().pgName(), ddl.relation(), seconds(ddl.waited()));
		}

	}

	@Schema(name = "IncidentSession", description = "A session as the incident recorded it (the DDL's, or the root "
			+ "blocker's)")
	public record Session(int pid, String gid, Instant backendStart, String state, String applicationName, String user,
			String clientAddress, String database, Instant xactStart, Double transactionAgeSeconds, Double idleSeconds,
			String statement, String commandTag) {

		public static Session of(SessionFacts s) {
			return s == null ? null
					: new Session(s.pid(), s.preparedGid(), s.backendStart(), s.state(), s.applicationName(), s.user(),
							s.clientAddress(), s.database(), s.transactionStart(), seconds(s.transactionAge()),
							seconds(s.idleFor()), s.statement(), s.commandTag());
		}

	}

	/** One incident with its timeline, the graph at its peak, its alert events and what the guard did about it. */
	@Schema(name = "IncidentDetail", description = "One incident with its timeline, the graph at its peak (null when "
			+ "the stored graph cannot be read), its alert events and the guard's actions")
	public record Detail(IncidentView incident, List<Point> timeline, GraphView graphAtPeak, List<Alert> alerts,
			List<GuardActionView> guardActions) {
	}

	/**
	 * One guard decision or operator action about the incident, dry-runs and skips included.
	 *
	 * @param actor {@code guard}, or {@code operator:<login>} for a cancel from the dashboard
	 * @param mode the guard's mode then ({@code off}, {@code dry-run}, {@code enforce}); null for actions recorded
	 * before the mode was
	 * @param outcome e.g. {@code cancelled}, {@code dry-run}, {@code excluded}, {@code gone}, {@code not-permitted}
	 */
	@Schema(name = "GuardAction", description = "One guard decision or operator action about the incident, dry-runs "
			+ "and skipped decisions included (docs/api.md): action cancel-ddl or terminate-idle-blocker; actor guard "
			+ "or operator:<login>; mode off, dry-run or enforce (null for actions recorded before it was stored); "
			+ "outcome as in docs/guard.md")
	public record GuardActionView(Instant at, String action, String actor, String mode, String outcome, int pid,
			Instant backendStart, String applicationName, String user, String reason) {

		public static GuardActionView of(GuardRecord r) {
			return new GuardActionView(r.at(), r.action().label(), r.actor(), (r.mode() != null) ? r.mode().label() : null,
					r.outcome().label(), r.pid(), r.backendStart(), r.applicationName(), r.user(), r.reason());
		}

	}

	/**
	 * One alert event of the incident and how its delivery went.
	 *
	 * @param eventId the event's stable id, as the receiver got it (webhook {@code eventId} and
	 * {@code Idempotency-Key}, PagerDuty {@code custom_details.eventId})
	 */
	@Schema(description = "An alert event (PagerDuty or webhook) and how its delivery went")
	public record Alert(long id, String channel, String action, String dedupKey, String state, int attempts,
			Instant createdAt, Instant sentAt, Instant nextAttemptAt, Integer lastStatus, String lastError,
			String eventId) {

		public static Alert of(OutboxEntry e) {
			return new Alert(e.id(), e.channel().label(), e.action().label(), e.dedupKey(), e.state().label(), e.attempts(),
					e.createdAt(), e.sentAt(), e.state() == OutboxEntry.State.PENDING ? e.nextAttemptAt() : null,
					e.lastStatus(), e.lastError(), e.eventId());
		}

	}

	@Schema(name = "TimelinePoint", description = "The incident's queue at one poll")
	public record Point(Instant at, int queueDepth, double maxWaitSeconds) {

		public static Point of(TimelinePoint p) {
			return new Point(p.at(), p.queueDepth(), p.maxWait().toMillis() / 1000.0);
		}

	}

}
