package io.pglockwatch.guard;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.pglockwatch.detect.Detector;
import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.detect.SessionFacts;
import io.pglockwatch.graph.DdlQueue;
import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.graph.RootBlocker;
import io.pglockwatch.graph.SessionNode;
import io.pglockwatch.guard.GuardHistory.Decided;
import io.pglockwatch.guard.GuardHistory.Session;

/**
 * The guard's rules, as a pure function of one graph, what the guard remembers of earlier polls and the time: no
 * clock, no database, no threads, so every decision can be replayed in a test.
 * <p>
 * A DDL is cancelled once it has kept at least {@code min-queued} sessions queued for {@code cancel-ddl-after},
 * counted from when its queue first reached {@code min-queued}. When {@code terminate-idle-blockers-after} is set, an
 * idle-in-transaction root blocker is ended once it has been seen blocking others that long. A session whose DDL
 * was cancelled and that is still an idle-in-transaction root blocker is reported. Each of these is decided at most
 * once per session; sessions that cannot or must not be signalled are decided about too (skipped, excluded), so the
 * decision is on record.
 */
public final class GuardPolicy {

	private final GuardProperties config;

	private final String ownApplicationName;

	/**
	 * @param ownApplicationName the application_name of pg-lockwatch's own sessions, which are never signalled
	 */
	public GuardPolicy(GuardProperties config, String ownApplicationName) {
		this.config = config;
		this.ownApplicationName = ownApplicationName;
	}

	/**
	 * The decisions about one graph of a target, and the history to pass with its next graph.
	 * @param minQueued the target's {@code detection.ddl-queue.min-queued}
	 * @param now the time of the graph (the server's clock at the poll)
	 */
	public Decisions decide(LockWaitGraph graph, int minQueued, GuardHistory history, Instant now) {
		if (this.config.mode() == GuardMode.OFF) {
			return new Decisions(List.of(), history);
		}
		Map<Session, Instant> queueSince = new HashMap<>(history.queueSince());
		Map<Session, Instant> blockingSince = new HashMap<>(history.blockingSince());
		Set<Decided> decided = new HashSet<>(history.decided());
		List<GuardDecision> decisions = new ArrayList<>();
		Set<Session> seen = new HashSet<>();
		// a root blocker behind a DDL queue belongs to that queue's incident, as the detector reports it
		Map<Integer, String> incidentOfRoot = new HashMap<>();
		for (DdlQueue queue : graph.ddlQueues()) {
			SessionNode ddl = graph.sessions().get(queue.pid());
			SessionFacts facts = Detector.facts(ddl, now);
			String incident = Detector.dedupKey(graph.target(), IncidentKind.DDL_LOCK_QUEUE, facts);
			queue.rootBlockerPids().forEach((root) -> incidentOfRoot.putIfAbsent(root, incident));
			Session session = Session.of(facts);
			seen.add(session);
			if (queue.queueDepth() >= minQueued) {
				queueSince.putIfAbsent(session, now);
			}
			Instant since = queueSince.get(session);
			if (since != null && !Duration.between(since, now).minus(this.config.cancelDdlAfter()).isNegative()
					&& decided.add(new Decided(GuardAction.CANCEL_DDL, session))) {
				decisions.add(decision(GuardAction.CANCEL_DDL, ddl, facts, incident, "kept " + queue.queueDepth()
						+ " sessions queued for " + Duration.between(since, now).toSeconds() + " s (cancel-ddl-after "
						+ this.config.cancelDdlAfter().toSeconds() + " s)"));
			}
		}
		Duration terminateAfter = this.config.terminateIdleBlockersAfter();
		for (RootBlocker root : graph.rootBlockers()) {
			SessionNode node = graph.sessions().get(root.pid());
			if (!node.isIdleInTransaction() || node.prepared() != null) {
				continue;
			}
			SessionFacts facts = Detector.facts(node, now);
			Session session = Session.of(facts);
			seen.add(session);
			blockingSince.putIfAbsent(session, now);
			String incident = incidentOfRoot.getOrDefault(root.pid(),
					Detector.dedupKey(graph.target(), IncidentKind.IDLE_BLOCKER, facts));
			if (history.cancelled().contains(session)
					&& decided.add(new Decided(GuardAction.WATCH_ABORTED_TRANSACTION, session))) {
				String reason = "its DDL was cancelled but its transaction (" + facts.state() + ") still holds locks that "
						+ root.blockedCount() + " sessions wait for" + (terminateAfter.isZero()
								? "; terminate-idle-blockers-after is 0, so it is left alone" : "; it will be ended");
				decisions.add(new GuardDecision(GuardAction.WATCH_ABORTED_TRANSACTION, facts, queryStart(node), incident,
						GuardOutcome.STILL_BLOCKING, reason));
			}
			Duration blocking = Duration.between(blockingSince.get(session), now);
			if (!terminateAfter.isZero() && !blocking.minus(terminateAfter).isNegative()
					&& decided.add(new Decided(GuardAction.TERMINATE_IDLE_BLOCKER, session))) {
				decisions.add(decision(GuardAction.TERMINATE_IDLE_BLOCKER, node, facts, incident,
						"idle in transaction and blocking " + root.blockedCount() + " sessions for " + blocking.toSeconds()
								+ " s (terminate-idle-blockers-after " + terminateAfter.toSeconds() + " s)"));
			}
		}
		// what is no longer seen is forgotten: a session that comes back starts its timers again
		queueSince.keySet().retainAll(seen);
		blockingSince.keySet().retainAll(seen);
		decided.removeIf((d) -> !seen.contains(d.session()));
		return new Decisions(List.copyOf(decisions),
				new GuardHistory(queueSince, blockingSince, decided, history.cancelled()));
	}

	private GuardDecision decision(GuardAction action, SessionNode node, SessionFacts facts, String incident,
			String why) {
		GuardDecision refusal = refusal(action, node, facts, incident);
		if (refusal != null) {
			return refusal;
		}
		if (this.config.mode() == GuardMode.DRY_RUN) {
			return new GuardDecision(action, facts, queryStart(node), incident, GuardOutcome.DRY_RUN,
					"would " + action.label() + ": " + why);
		}
		return new GuardDecision(action, facts, queryStart(node), incident, null, why);
	}

	/**
	 * Why the session must not be signalled at all ({@code excluded} or {@code skipped}), or null when it may be:
	 * prepared transactions and ended sessions have no backend to signal, pg-lockwatch leaves its own sessions and
	 * non-client backends alone, and excluded applications and roles are never touched.
	 */
	GuardDecision refusal(GuardAction action, SessionNode node, SessionFacts facts, String incident) {
		String skipped = skipReason(node, facts);
		if (skipped != null) {
			return new GuardDecision(action, facts, queryStart(node), incident, GuardOutcome.SKIPPED, skipped);
		}
		String excluded = exclusion(facts);
		if (excluded != null) {
			return new GuardDecision(action, facts, queryStart(node), incident, GuardOutcome.EXCLUDED, excluded);
		}
		return null;
	}

	private String skipReason(SessionNode node, SessionFacts facts) {
		if (node.prepared() != null || node.activity() == null) {
			return "skipped: a prepared transaction or a session that ended cannot be signalled";
		}
		if (this.ownApplicationName.equals(facts.applicationName())) {
			return "skipped: pg-lockwatch's own session";
		}
		if ("startup".equals(node.activity().backendType())) {
			return "skipped: the startup process replays WAL from the primary; signalling it would stop the standby";
		}
		if (!"client backend".equals(node.activity().backendType())) {
			return "skipped: " + node.activity().backendType() + " is not a client session";
		}
		return null;
	}

	private String exclusion(SessionFacts facts) {
		if (facts.applicationName() != null && this.config.excludeApplications().contains(facts.applicationName())) {
			return "excluded: application " + facts.applicationName();
		}
		if (facts.user() != null && this.config.excludeUsers().contains(facts.user())) {
			return "excluded: user " + facts.user();
		}
		return null;
	}

	private static Instant queryStart(SessionNode node) {
		return node.activity() == null ? null : node.activity().queryStart();
	}

	/**
	 * What one graph led to.
	 *
	 * @param decisions in the order of the graph's DDL queues, then its root blockers
	 * @param history what to remember for the next graph of the same target
	 */
	public record Decisions(List<GuardDecision> decisions, GuardHistory history) {
	}

}
