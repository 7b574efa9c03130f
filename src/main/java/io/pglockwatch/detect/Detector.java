package io.pglockwatch.detect;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.pglockwatch.graph.DdlQueue;
import io.pglockwatch.graph.LockWait;
import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.graph.RootBlocker;
import io.pglockwatch.graph.SessionNode;
import io.pglockwatch.graph.WaitEdge;
import io.pglockwatch.lock.LockMode;
import io.pglockwatch.lock.SessionActivity;

/**
 * The rules, as pure functions of one graph. One situation is reported once: a root blocker behind a DDL
 * queue belongs to that {@code ddl-lock-queue} finding (it is named in it); any other root is an
 * {@code idle-blocker} when it is idle in a transaction and a {@code blocking-chain} otherwise.
 */
public final class Detector {

	private Detector() {
	}

	/** {@code pg_stat_activity.backend_type} of the process that replays WAL on a standby. */
	public static final String REPLAY_BACKEND = "startup";

	public static List<Finding> detect(LockWaitGraph graph, Thresholds thresholds) {
		List<Finding> findings = new ArrayList<>();
		Set<Integer> explained = new HashSet<>();
		for (DdlQueue queue : graph.ddlQueues()) {
			findings.add(ddlQueue(graph, queue, thresholds.ddlQueue()));
			explained.addAll(queue.rootBlockerPids());
		}
		for (RootBlocker root : graph.rootBlockers()) {
			if (explained.contains(root.pid())) {
				continue;
			}
			SessionNode node = graph.sessions().get(root.pid());
			SessionFacts facts = facts(node, graph.takenAt());
			if (isReplay(node)) {
				findings.add(replayQueue(graph, root, facts, thresholds.ddlQueue()));
			}
			else if (node.isIdleInTransaction()) {
				boolean qualifies = facts.idleFor() != null
						&& facts.idleFor().compareTo(thresholds.idleBlocker().minIdle()) >= 0;
				findings.add(new Finding(IncidentKind.IDLE_BLOCKER, dedupKey(graph.target(), IncidentKind.IDLE_BLOCKER, facts),
						qualifies, Severity.WARNING, null, facts, root.blockedCount(), root.longestWait(), facts.database()));
			}
			else {
				Thresholds.BlockingChain rule = thresholds.blockingChain();
				boolean qualifies = root.blockedCount() >= rule.minBlocked()
						&& root.longestWait().compareTo(rule.minWait()) >= 0;
				findings.add(new Finding(IncidentKind.BLOCKING_CHAIN,
						dedupKey(graph.target(), IncidentKind.BLOCKING_CHAIN, facts), qualifies, Severity.WARNING, null, facts,
						root.blockedCount(), root.longestWait(), facts.database()));
			}
		}
		return List.copyOf(findings);
	}

	/** Whether the session is a standby's startup process, which replays WAL and holds the locks it replays. */
	public static boolean isReplay(SessionNode node) {
		return node.activity() != null && REPLAY_BACKEND.equals(node.activity().backendType());
	}

	/**
	 * Readers queued on a hot standby behind a lock that replay holds: judged by the thresholds of a DDL queue, since
	 * to the readers it is one (the DDL ran on the primary). The incident's DDL is the replayed lock: the startup
	 * process, the mode and relation the readers wait for, and the longest of their waits.
	 */
	private static Finding replayQueue(LockWaitGraph graph, RootBlocker root, SessionFacts replay,
			Thresholds.DdlQueue rule) {
		String relation = null;
		LockMode mode = LockMode.ACCESS_EXCLUSIVE;
		for (WaitEdge edge : graph.edges()) {
			if (edge.blockerPid() == root.pid()) {
				relation = graph.relation(edge);
				if (relation != null) {
					break;
				}
			}
		}
		boolean qualifies = root.blockedCount() >= rule.minQueued() && root.longestWait().compareTo(rule.minWait()) >= 0;
		boolean critical = root.blockedCount() >= rule.criticalQueued()
				|| root.longestWait().compareTo(rule.criticalWait()) >= 0;
		return new Finding(IncidentKind.REPLAY_LOCK_QUEUE, dedupKey(graph.target(), IncidentKind.REPLAY_LOCK_QUEUE, replay),
				qualifies, critical ? Severity.CRITICAL : Severity.WARNING,
				new DdlFacts(replay, mode, relation, root.longestWait()), replay, root.blockedCount(), root.longestWait(),
				replay.database());
	}

	private static Finding ddlQueue(LockWaitGraph graph, DdlQueue queue, Thresholds.DdlQueue rule) {
		SessionNode ddlNode = graph.sessions().get(queue.pid());
		SessionFacts ddl = facts(ddlNode, graph.takenAt());
		SessionFacts root = queue.rootBlockerPids().isEmpty() ? null
				: facts(graph.sessions().get(mostBlocking(graph, queue.rootBlockerPids())), graph.takenAt());
		Duration maxWait = queue.waited();
		for (DdlQueue.Queued queued : queue.queued()) {
			for (LockWait wait : graph.sessions().get(queued.pid()).waits()) {
				if (wait.waited().compareTo(maxWait) > 0) {
					maxWait = wait.waited();
				}
			}
		}
		boolean qualifies = queue.queueDepth() >= rule.minQueued() && queue.waited().compareTo(rule.minWait()) >= 0;
		if (GateAttempt.of(ddl.applicationName()) != null && queue.waited().compareTo(rule.gateGrace()) < 0) {
			// the gate cancels its own statement long before this, and retries later: no page for a queue that ends
			// by itself
			qualifies = false;
		}
		boolean critical = queue.queueDepth() >= rule.criticalQueued() || queue.waited().compareTo(rule.criticalWait()) >= 0;
		return new Finding(IncidentKind.DDL_LOCK_QUEUE, dedupKey(graph.target(), IncidentKind.DDL_LOCK_QUEUE, ddl), qualifies,
				critical ? Severity.CRITICAL : Severity.WARNING,
				new DdlFacts(ddl, queue.mode(), queue.relation(), queue.waited()), root, queue.queueDepth(), maxWait,
				ddl.database());
	}

	private static int mostBlocking(LockWaitGraph graph, List<Integer> roots) {
		// rootBlockers() is sorted by blocked count, so the first match is the one that matters most
		for (RootBlocker root : graph.rootBlockers()) {
			if (roots.contains(root.pid())) {
				return root.pid();
			}
		}
		return roots.get(0);
	}

	/**
	 * The dedup key says what the incident is: target, kind, and the session at its heart by pid and
	 * backend start (pids are reused; a pid with its start time is not). A prepared transaction is named
	 * by its gid. At most 240 characters, so with the escalation suffix it fits PagerDuty's 255.
	 */
	public static String dedupKey(String target, IncidentKind kind, SessionFacts session) {
		String who;
		if (session.preparedGid() != null) {
			who = "gid:" + session.preparedGid();
		}
		else {
			Instant start = session.backendStart();
			who = session.pid() + "@" + (start == null ? "unknown"
					: (start.getEpochSecond() * 1_000_000L + start.getNano() / 1_000));
		}
		String key = target + "/" + kind.label() + "/" + who;
		// room for the "/critical" suffix of the escalation alert within PagerDuty's 255 characters
		return key.length() <= 240 ? key : key.substring(0, 225) + "#" + Integer.toHexString(key.hashCode());
	}

	/** What an incident keeps of a session, measured on the server's clock at the poll. */
	public static SessionFacts facts(SessionNode node, Instant at) {
		if (node.prepared() != null) {
			var p = node.prepared();
			return new SessionFacts(0, null, "prepared", null, p.owner(), null, p.database(), p.prepared(),
					between(p.prepared(), at), null, null, null, p.gid());
		}
		SessionActivity a = node.activity();
		if (a == null) {
			return new SessionFacts(node.pid(), null, null, null, null, null, null, null, null, null, null, null, null);
		}
		Duration idleFor = node.isIdleInTransaction() ? between(a.stateChange(), at) : null;
		return new SessionFacts(a.pid(), a.backendStart(), a.state(), a.applicationName(), a.user(), a.clientAddress(),
				a.database(), a.transactionStart(), between(a.transactionStart(), at), idleFor, a.query(), a.commandTag(),
				null);
	}

	private static Duration between(Instant from, Instant to) {
		if (from == null || to == null) {
			return null;
		}
		Duration d = Duration.between(from, to);
		return d.isNegative() ? Duration.ZERO : d;
	}

}
