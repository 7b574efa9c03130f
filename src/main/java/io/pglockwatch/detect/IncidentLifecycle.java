package io.pglockwatch.detect;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import io.pglockwatch.graph.LockWaitGraph;

/**
 * The incidents of one target, advanced one graph at a time: open when a finding qualifies, escalate when
 * it turns critical, resolve when no finding of it has been seen for {@code resolve-after}. The hysteresis
 * is what makes a migration that retries with lock_timeout (same session, so the same dedup key) one
 * incident rather than one per try. Not thread-safe: one poll of a target at a time calls it.
 */
public final class IncidentLifecycle {

	private final String target;

	private final Supplier<String> ids;

	private final Map<String, Incident> active = new LinkedHashMap<>();

	/**
	 * @param restored active incidents of this target from the store, continued after a restart
	 * @param ids makes incident ids
	 */
	public IncidentLifecycle(String target, Collection<Incident> restored, Supplier<String> ids) {
		this.target = target;
		this.ids = ids;
		for (Incident incident : restored) {
			if (incident.isActive() && incident.target().equals(target)) {
				this.active.put(incident.dedupKey(), incident);
			}
		}
	}

	public List<Incident> active() {
		return List.copyOf(this.active.values());
	}

	public List<IncidentEvent> advance(LockWaitGraph graph, Thresholds thresholds) {
		Instant now = graph.takenAt();
		List<IncidentEvent> events = new ArrayList<>();
		Map<String, Finding> seen = new LinkedHashMap<>();
		for (Finding finding : Detector.detect(graph, thresholds)) {
			seen.putIfAbsent(finding.dedupKey(), finding);
		}
		for (Finding finding : seen.values()) {
			Incident current = this.active.get(finding.dedupKey());
			TimelinePoint point = new TimelinePoint(now, finding.queueDepth(), finding.maxWait());
			if (current == null) {
				if (finding.qualifies()) {
					open(finding, point, graph, events);
				}
				continue;
			}
			boolean peak = finding.queueDepth() > current.peakQueueDepth();
			Incident updated = new Incident(current.id(), current.dedupKey(), this.target, current.kind(), current.severity(),
					current.state(), current.openedAt(), current.escalatedAt(), null, now,
					finding.ddl() != null ? finding.ddl() : current.ddl(),
					finding.rootBlocker() != null ? finding.rootBlocker() : current.rootBlocker(), finding.queueDepth(),
					Math.max(current.peakQueueDepth(), finding.queueDepth()), max(current.peakMaxWait(), finding.maxWait()),
					current.database());
			this.active.put(updated.dedupKey(), updated);
			events.add(new IncidentEvent(IncidentEvent.Type.UPDATED, updated, point, peak ? graph : null));
			if (finding.severity() == Severity.CRITICAL && updated.severity() != Severity.CRITICAL) {
				escalate(updated, now, events);
			}
		}
		for (Incident incident : List.copyOf(this.active.values())) {
			if (seen.containsKey(incident.dedupKey())) {
				continue;
			}
			if (Duration.between(incident.lastSeenAt(), now).compareTo(thresholds.resolveAfter()) >= 0) {
				Incident resolved = new Incident(incident.id(), incident.dedupKey(), this.target, incident.kind(),
						incident.severity(), IncidentState.RESOLVED, incident.openedAt(), incident.escalatedAt(), now,
						incident.lastSeenAt(), incident.ddl(), incident.rootBlocker(), 0, incident.peakQueueDepth(),
						incident.peakMaxWait(), incident.database());
				this.active.remove(incident.dedupKey());
				events.add(new IncidentEvent(IncidentEvent.Type.RESOLVED, resolved, null, null));
			}
			else {
				// gone for now, perhaps a retry between two tries: keep the timeline honest
				events.add(new IncidentEvent(IncidentEvent.Type.UPDATED, incident, new TimelinePoint(now, 0, Duration.ZERO),
						null));
			}
		}
		return events;
	}

	private void open(Finding finding, TimelinePoint point, LockWaitGraph graph, List<IncidentEvent> events) {
		Incident opened = new Incident(this.ids.get(), finding.dedupKey(), this.target, finding.kind(), Severity.WARNING,
				IncidentState.OPEN, point.at(), null, null, point.at(), finding.ddl(), finding.rootBlocker(),
				finding.queueDepth(), finding.queueDepth(), finding.maxWait(), finding.database());
		this.active.put(opened.dedupKey(), opened);
		events.add(new IncidentEvent(IncidentEvent.Type.OPENED, opened, point, graph));
		if (finding.severity() == Severity.CRITICAL) {
			escalate(opened, point.at(), events);
		}
	}

	private void escalate(Incident incident, Instant now, List<IncidentEvent> events) {
		Incident escalated = new Incident(incident.id(), incident.dedupKey(), this.target, incident.kind(),
				Severity.CRITICAL, IncidentState.ESCALATED, incident.openedAt(), now, null, incident.lastSeenAt(),
				incident.ddl(), incident.rootBlocker(), incident.queueDepth(), incident.peakQueueDepth(),
				incident.peakMaxWait(), incident.database());
		this.active.put(escalated.dedupKey(), escalated);
		events.add(new IncidentEvent(IncidentEvent.Type.ESCALATED, escalated, null, null));
	}

	private static Duration max(Duration a, Duration b) {
		if (a == null) {
			return b;
		}
		return (b != null && b.compareTo(a) > 0) ? b : a;
	}

}
