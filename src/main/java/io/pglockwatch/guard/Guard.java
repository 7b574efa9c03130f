package io.pglockwatch.guard;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.pglockwatch.detect.Detector;
import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.detect.SessionFacts;
import io.pglockwatch.graph.DdlQueue;
import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.graph.RootBlocker;
import io.pglockwatch.graph.SessionNode;
import io.pglockwatch.incident.IncidentRecorder;
import io.pglockwatch.poll.PollListener;
import io.pglockwatch.poll.PollOutcome;
import io.pglockwatch.poll.TargetConnections;
import io.pglockwatch.poll.TargetMonitor;
import io.pglockwatch.poll.TargetsProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.context.SmartLifecycle;

/**
 * The opt-in guard. Decides on the poll thread from each graph (cheap bookkeeping only); every signal runs on
 * the guard's own thread so a slow target never delays a poll. It cancels a DDL that has kept at least
 * {@code min-queued} sessions queued for {@code cancel-ddl-after} (counted from when the queue first reached
 * {@code min-queued}), and, when {@code terminate-idle-blockers-after} is set, ends an idle-in-transaction root
 * blocker that has blocked others that long. A DDL cancelled inside a migration transaction leaves that
 * transaction aborted and still holding its earlier locks: the guard keeps watching such a session and reports
 * it. It never acts on excluded applications or users, on pg-lockwatch itself, on non-client backends or on
 * prepared transactions, and at most once per session per situation. Every decision, dry-runs and skips
 * included, is logged, counted and recorded on the incident.
 */
public final class Guard implements PollListener, MeterBinder, SmartLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(Guard.class);

	private final GuardProperties config;

	private final IncidentRecorder incidents;

	private final TargetMonitor monitor;

	private final GuardLog log;

	private final SessionSignaller signaller = new SessionSignaller();

	private final Map<String, TargetState> targets = new ConcurrentHashMap<>();

	private final Map<String, Counter> counters = new ConcurrentHashMap<>();

	private final Map<String, String> lastProblem = new ConcurrentHashMap<>();

	private final ExecutorService actions = Executors.newSingleThreadExecutor((r) -> {
		Thread thread = new Thread(r, "pglockwatch-guard");
		thread.setDaemon(true);
		return thread;
	});

	private MeterRegistry registry;

	private volatile boolean running;

	public Guard(GuardProperties config, TargetsProperties targetsConfig, IncidentRecorder incidents,
			TargetMonitor monitor, GuardLog log) {
		this.config = config;
		this.incidents = incidents;
		this.monitor = monitor;
		this.log = log;
		for (TargetsProperties.Target target : targetsConfig.targets()) {
			this.targets.put(target.name(), new TargetState());
		}
	}

	public GuardMode mode() {
		return this.config.mode();
	}

	/** The latest reason the guard could not act on a target (e.g. not permitted), or null. */
	public String problem(String target) {
		return this.lastProblem.get(target);
	}

	@Override
	public void onPoll(PollOutcome outcome) {
		if (this.config.mode() == GuardMode.OFF || !outcome.succeeded()) {
			return;
		}
		TargetState state = this.targets.get(outcome.target());
		LockWaitGraph graph = outcome.graph();
		Instant now = graph.takenAt();
		int minQueued = this.incidents.thresholds(outcome.target()).ddlQueue().minQueued();
		Set<String> seen = new HashSet<>();
		Map<Integer, String> incidentOfRoot = new HashMap<>();
		for (DdlQueue queue : graph.ddlQueues()) {
			SessionNode ddl = graph.sessions().get(queue.pid());
			SessionFacts facts = Detector.facts(ddl, now);
			String incident = Detector.dedupKey(outcome.target(), IncidentKind.DDL_LOCK_QUEUE, facts);
			queue.rootBlockerPids().forEach((root) -> incidentOfRoot.putIfAbsent(root, incident));
			String session = session(facts);
			seen.add(session);
			if (queue.queueDepth() >= minQueued) {
				state.queueSince.putIfAbsent(session, now);
			}
			Instant since = state.queueSince.get(session);
			if (since != null && !Duration.between(since, now).minus(this.config.cancelDdlAfter()).isNegative()
					&& state.acted.add(GuardAction.CANCEL_DDL.label() + "/" + session)) {
				decide(outcome.target(), GuardAction.CANCEL_DDL, ddl, facts, incident, "kept " + queue.queueDepth()
						+ " sessions queued for " + Duration.between(since, now).toSeconds() + " s (cancel-ddl-after "
						+ this.config.cancelDdlAfter().toSeconds() + " s)", state);
			}
		}
		for (RootBlocker root : graph.rootBlockers()) {
			SessionNode node = graph.sessions().get(root.pid());
			if (!node.isIdleInTransaction() || node.prepared() != null) {
				continue;
			}
			SessionFacts facts = Detector.facts(node, now);
			String session = session(facts);
			seen.add(session);
			state.blockingSince.putIfAbsent(session, now);
			String incident = incidentOfRoot.getOrDefault(root.pid(),
					Detector.dedupKey(outcome.target(), IncidentKind.IDLE_BLOCKER, facts));
			if (state.cancelled.contains(session) && state.acted.add(GuardAction.WATCH_ABORTED_TRANSACTION.label() + "/" + session)) {
				String reason = "its DDL was cancelled but its transaction (" + facts.state() + ") still holds locks that "
						+ root.blockedCount() + " sessions wait for"
						+ (this.config.terminateIdleBlockersAfter().isZero()
								? "; terminate-idle-blockers-after is 0, so it is left alone" : "; it will be ended");
				record(outcome.target(), GuardAction.WATCH_ABORTED_TRANSACTION, facts, incident, "guard",
						GuardOutcome.STILL_BLOCKING, reason);
			}
			Duration after = this.config.terminateIdleBlockersAfter();
			if (!after.isZero()
					&& !Duration.between(state.blockingSince.get(session), now).minus(after).isNegative()
					&& state.acted.add(GuardAction.TERMINATE_IDLE_BLOCKER.label() + "/" + session)) {
				decide(outcome.target(), GuardAction.TERMINATE_IDLE_BLOCKER, node, facts, incident, "idle in transaction and blocking "
						+ root.blockedCount() + " sessions for " + Duration.between(state.blockingSince.get(session), now)
							.toSeconds() + " s (terminate-idle-blockers-after " + after.toSeconds() + " s)", state);
			}
		}
		state.queueSince.keySet().retainAll(seen);
		state.blockingSince.keySet().retainAll(seen);
		state.acted.removeIf((key) -> !seen.contains(key.substring(key.indexOf('/') + 1)));
	}

	private void decide(String target, GuardAction action, SessionNode node, SessionFacts facts, String incident,
			String why, TargetState state) {
		String skip = skipReason(node, facts);
		if (skip != null) {
			record(target, action, facts, incident, "guard",
					skip.startsWith("excluded") ? GuardOutcome.EXCLUDED : GuardOutcome.SKIPPED, skip);
			return;
		}
		if (this.config.mode() == GuardMode.DRY_RUN) {
			record(target, action, facts, incident, "guard", GuardOutcome.DRY_RUN, "would " + action.label() + ": " + why);
			return;
		}
		var queryStart = node.activity().queryStart();
		this.actions.execute(() -> {
			SessionSignaller.Result result = act(target, action, facts, queryStart);
			if (action == GuardAction.CANCEL_DDL && result.outcome() == GuardOutcome.CANCELLED) {
				state.cancelled.add(session(facts));
			}
			record(target, action, facts, incident, "guard", result.outcome(),
					result.reason() == null ? why : result.reason());
		});
	}

	/**
	 * An operator's cancel of a waiting DDL from the dashboard: the same safety checks, run now, recorded with the
	 * operator's login.
	 */
	public GuardRecord operatorCancel(String target, SessionNode ddl, String incident, String login) {
		SessionFacts facts = Detector.facts(ddl, Instant.now());
		String skip = skipReason(ddl, facts);
		String actor = "operator:" + login;
		if (skip != null) {
			return record(target, GuardAction.CANCEL_DDL, facts, incident, actor, GuardOutcome.SKIPPED, skip);
		}
		SessionSignaller.Result result = act(target, GuardAction.CANCEL_DDL, facts, ddl.activity().queryStart());
		return record(target, GuardAction.CANCEL_DDL, facts, incident, actor, result.outcome(),
				result.reason() == null ? "cancelled from the dashboard" : result.reason());
	}

	private SessionSignaller.Result act(String target, GuardAction action, SessionFacts facts, Instant queryStart) {
		TargetConnections connections = this.monitor.connections(target);
		if (connections == null) {
			return new SessionSignaller.Result(GuardOutcome.FAILED, "target " + target + " is not being watched");
		}
		SessionSignaller.Result result = this.signaller.signal(connections, action == GuardAction.TERMINATE_IDLE_BLOCKER, facts.pid(),
				facts.backendStart(), queryStart);
		if (result.outcome() == GuardOutcome.NOT_PERMITTED) {
			this.lastProblem.put(target, "the guard may not signal pid " + facts.pid() + ": " + result.reason()
					+ " (grant pg_signal_backend; superusers' sessions cannot be signalled by it)");
		}
		return result;
	}

	private String skipReason(SessionNode node, SessionFacts facts) {
		if (node.prepared() != null || node.activity() == null) {
			return "skipped: a prepared transaction or a session that ended cannot be signalled";
		}
		if (TargetConnections.APPLICATION_NAME.equals(facts.applicationName())) {
			return "skipped: pg-lockwatch's own session";
		}
		if (!"client backend".equals(node.activity().backendType())) {
			return "skipped: " + node.activity().backendType() + " is not a client session";
		}
		if (facts.applicationName() != null && this.config.excludeApplications().contains(facts.applicationName())) {
			return "excluded: application " + facts.applicationName();
		}
		if (facts.user() != null && this.config.excludeUsers().contains(facts.user())) {
			return "excluded: user " + facts.user();
		}
		return null;
	}

	private GuardRecord record(String target, GuardAction action, SessionFacts facts, String incident, String actor,
			GuardOutcome outcome, String reason) {
		GuardRecord record = new GuardRecord(Instant.now(), target, incident, action, actor, facts.pid(),
				facts.backendStart(), facts.applicationName(), facts.user(), outcome, reason);
		logger.warn("Guard ({}) {} pid {} on {} (app {}, user {}): {}{}", actor, action.label(), facts.pid(), target,
				facts.applicationName(), facts.user(), outcome.label(), reason == null ? "" : " - " + reason);
		counter(target, action, outcome).increment();
		try {
			this.log.add(record);
		}
		catch (RuntimeException ex) {
			logger.error("Could not record guard action on {}: {}", target, ex.getMessage());
		}
		return record;
	}

	private Counter counter(String target, GuardAction action, GuardOutcome outcome) {
		return this.counters.computeIfAbsent(target + "/" + action.label() + "/" + outcome.label(),
				(k) -> Counter.builder("pglockwatch.guard.actions")
					.description("Guard decisions and operator actions by action and outcome (dry-run included)")
					.tag("target", target)
					.tag("action", action.label())
					.tag("outcome", outcome.label())
					.register(this.registry));
	}

	private static String session(SessionFacts facts) {
		return facts.pid() + "@" + facts.backendStart();
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		this.registry = registry;
		if (this.config.mode() != GuardMode.OFF) {
			GuardOutcome done = this.config.mode() == GuardMode.DRY_RUN ? GuardOutcome.DRY_RUN : GuardOutcome.CANCELLED;
			this.targets.keySet().forEach((target) -> counter(target, GuardAction.CANCEL_DDL, done));
		}
	}

	@Override
	public void start() {
		this.running = true;
		if (this.config.mode() != GuardMode.OFF) {
			logger.warn("Guard is on ({}): cancel a DDL queue after {} s{}; never touching applications {} or users {}",
					this.config.mode(), this.config.cancelDdlAfter().toSeconds(),
					this.config.terminateIdleBlockersAfter().isZero() ? ""
							: ", end idle-in-transaction blockers after " + this.config.terminateIdleBlockersAfter().toSeconds() + " s",
					this.config.excludeApplications(), this.config.excludeUsers());
		}
	}

	@Override
	public void stop() {
		this.running = false;
		this.actions.shutdown();
		try {
			this.actions.awaitTermination(5, TimeUnit.SECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	/** Per target: since when, and what was done. Touched by that target's poll thread (and the guard thread). */
	private static final class TargetState {

		final Map<String, Instant> queueSince = new ConcurrentHashMap<>();

		final Map<String, Instant> blockingSince = new ConcurrentHashMap<>();

		final Set<String> acted = ConcurrentHashMap.newKeySet();

		final Set<String> cancelled = ConcurrentHashMap.newKeySet();

	}

	List<String> targetNames() {
		return List.copyOf(this.targets.keySet());
	}

}
