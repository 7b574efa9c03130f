package io.pglockwatch.guard;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.pglockwatch.cluster.Cluster;
import io.pglockwatch.cluster.Fence;
import io.pglockwatch.detect.Detector;
import io.pglockwatch.detect.SessionFacts;
import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.graph.SessionNode;
import io.pglockwatch.guard.GuardHistory.Session;
import io.pglockwatch.incident.IncidentRecorder;
import io.pglockwatch.poll.PollListener;
import io.pglockwatch.poll.PollOutcome;
import io.pglockwatch.poll.TargetConnections;
import io.pglockwatch.poll.TargetMonitor;
import io.pglockwatch.poll.TargetsProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.context.SmartLifecycle;
import org.springframework.core.task.TaskExecutor;

/**
 * The opt-in guard at work: on each poll it asks {@link GuardPolicy} what to do about the graph (cheap, on the poll
 * thread), keeps the policy's history per target, and hands every signal to the guard's executor so a slow target
 * never delays a poll. Every decision, dry-runs and skips included, is logged, counted and recorded on the incident.
 * A DDL cancelled inside a migration transaction can leave that transaction aborted and still holding its earlier
 * locks, so the sessions whose DDL was cancelled are remembered for the policy to watch.
 *
 * <p>Only the leader of a target's shard acts for it. Every replica runs the policy on its polls, so its timers are
 * current when it takes over, but a replica that does not lead keeps no decisions. A decision to signal (or its
 * dry-run) is claimed in the store first ({@link GuardClaims}), fenced with the leadership it was made under: a session
 * is signalled at most once, whichever replica leads, even across a failover between decision and signal. On a
 * store that other replicas may share (PostgreSQL), a signal whose claim the store did not answer is not sent; on an
 * H2 file, a cluster of one, it is.
 */
public final class Guard implements PollListener, MeterBinder, SmartLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(Guard.class);

	private static final String GUARD = "guard";

	/**
	 * How long a session whose DDL was cancelled is watched for the aborted transaction it may leave behind: a
	 * migration tool ends such a transaction within seconds or minutes; a day is far past that.
	 */
	static final Duration REMEMBER_CANCELLED = Duration.ofDays(1);

	private final GuardProperties config;

	private final GuardPolicy policy;

	private final IncidentRecorder incidents;

	private final TargetMonitor monitor;

	private final GuardLog log;

	private final GuardClaims claims;

	private final Cluster cluster;

	private final TaskExecutor signals;

	private final SessionSignaller signaller = new SessionSignaller();

	private final Map<String, TargetState> targets = new ConcurrentHashMap<>();

	private final Map<String, Counter> counters = new ConcurrentHashMap<>();

	private final Map<String, String> lastProblem = new ConcurrentHashMap<>();

	private MeterRegistry registry;

	private volatile boolean running;

	/**
	 * @param signals runs the signals, one at a time, off the poll threads
	 */
	public Guard(GuardProperties config, GuardPolicy policy, TargetsProperties targetsConfig,
			IncidentRecorder incidents, TargetMonitor monitor, GuardLog log, GuardClaims claims, Cluster cluster,
			TaskExecutor signals) {
		this.config = config;
		this.claims = claims;
		this.cluster = cluster;
		this.policy = policy;
		this.incidents = incidents;
		this.monitor = monitor;
		this.log = log;
		this.signals = signals;
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
		int minQueued = this.incidents.thresholds(outcome.target()).ddlQueue().minQueued();
		GuardPolicy.Decisions result = this.policy.decide(graph, minQueued,
				state.history.withCancelled(state.cancelledSince(graph.takenAt())), graph.takenAt());
		Fence fence = this.cluster.fence(outcome.target());
		if (fence == null) {
			// not the leader: keep the timers for a takeover, not the decisions, which the leader carries out
			GuardHistory kept = result.history();
			state.history = new GuardHistory(kept.queueSince(), kept.blockingSince(), Set.of(), kept.cancelled());
			return;
		}
		state.history = result.history();
		for (GuardDecision decision : result.decisions()) {
			carryOut(outcome.target(), decision, state, fence);
		}
	}

	private void carryOut(String target, GuardDecision decision, TargetState state, Fence fence) {
		SessionFacts facts = decision.session();
		boolean claimed = decision.signals() || decision.outcome() == GuardOutcome.DRY_RUN;
		if (!claimed) {
			record(target, decision.action(), facts, decision.incident(), GUARD, decision.outcome(), decision.reason(),
					fence);
			return;
		}
		this.signals.execute(() -> {
			String action = decision.action().label() + (decision.signals() ? "" : "/" + GuardOutcome.DRY_RUN.label());
			GuardClaims.Claim claim = this.claims.claim(fence, target, facts, action);
			if (claim == GuardClaims.Claim.TAKEN || claim == GuardClaims.Claim.NOT_LEADER) {
				logger.info("Guard leaves {} of pid {} on {} alone: {}", action, facts.pid(), target,
						(claim == GuardClaims.Claim.TAKEN) ? "already decided (by this or an earlier leader)"
								: "another replica leads the target now");
				return;
			}
			if (!decision.signals()) {
				record(target, decision.action(), facts, decision.incident(), GUARD, decision.outcome(),
						decision.reason(), fence);
				return;
			}
			if (claim == GuardClaims.Claim.UNKNOWN && this.cluster.sharedStore()) {
				record(target, decision.action(), facts, decision.incident(), GUARD, GuardOutcome.FAILED,
						"not signalled: the store did not answer the claim of this decision, so another replica "
								+ "might act on it too",
						fence);
				return;
			}
			if (!this.cluster.holds(fence)) {
				return;
			}
			SessionSignaller.Result result = signal(target, decision.action(), facts, decision.queryStart());
			if (decision.action() == GuardAction.CANCEL_DDL && result.outcome() == GuardOutcome.CANCELLED) {
				state.cancelled.put(Session.of(facts), Instant.now());
			}
			record(target, decision.action(), facts, decision.incident(), GUARD, result.outcome(),
					result.reason() == null ? decision.reason() : result.reason(), fence);
		});
	}

	/**
	 * An operator's cancel of a waiting DDL from the dashboard: the same safety checks, run now, recorded with the
	 * operator's login.
	 */
	public GuardRecord operatorCancel(String target, SessionNode ddl, String incident, String login) {
		SessionFacts facts = Detector.facts(ddl, Instant.now());
		String actor = "operator:" + login;
		GuardDecision refusal = this.policy.refusal(GuardAction.CANCEL_DDL, ddl, facts, incident);
		if (refusal != null) {
			// an operator's refused cancel is recorded as skipped, excluded sessions included
			return record(target, GuardAction.CANCEL_DDL, facts, incident, actor, GuardOutcome.SKIPPED,
					refusal.reason(), this.cluster.fence(target));
		}
		SessionSignaller.Result result = signal(target, GuardAction.CANCEL_DDL, facts, ddl.activity().queryStart());
		return record(target, GuardAction.CANCEL_DDL, facts, incident, actor, result.outcome(),
				result.reason() == null ? "cancelled from the dashboard" : result.reason(), this.cluster.fence(target));
	}

	private SessionSignaller.Result signal(String target, GuardAction action, SessionFacts facts, Instant queryStart) {
		TargetConnections connections = this.monitor.connections(target);
		if (connections == null) {
			return new SessionSignaller.Result(GuardOutcome.FAILED, "target " + target + " is not being watched");
		}
		SessionSignaller.Result result = this.signaller.signal(connections,
				action == GuardAction.TERMINATE_IDLE_BLOCKER, facts.pid(), facts.backendStart(), queryStart);
		if (result.outcome() == GuardOutcome.NOT_PERMITTED) {
			this.lastProblem.put(target, "the guard may not signal pid " + facts.pid() + ": " + result.reason()
					+ " (grant pg_signal_backend; superusers' sessions cannot be signalled by it)");
		}
		return result;
	}

	private GuardRecord record(String target, GuardAction action, SessionFacts facts, String incident, String actor,
			GuardOutcome outcome, String reason, Fence fence) {
		GuardRecord record = new GuardRecord(Instant.now(), target, incident, action, actor, this.config.mode(),
				facts.pid(),
				facts.backendStart(), facts.applicationName(), facts.user(), outcome, reason);
		logger.warn("Guard ({}) {} pid {} on {} (app {}, user {}): {}{}", actor, action.label(), facts.pid(), target,
				facts.applicationName(), facts.user(), outcome.label(), reason == null ? "" : " - " + reason);
		counter(target, action, outcome).increment();
		try {
			this.log.add(record, fence);
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

	@Override
	public void bindTo(MeterRegistry registry) {
		this.registry = registry;
		if (this.config.mode() != GuardMode.OFF) {
			// with the guard on, the cancel-ddl series of its usual outcome exists from startup (docs/metrics.md)
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
		// the signal executor is a bean of its own and is shut down with the context
		this.running = false;
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	/**
	 * Per target: the policy's history, replaced by that target's poll thread after each poll, and the sessions whose
	 * DDL was cancelled (with when), added by the signal thread once the cancel succeeded and forgotten after
	 * {@link #REMEMBER_CANCELLED}, so that a guard that runs for months does not keep every session it ever cancelled.
	 */
	private static final class TargetState {

		volatile GuardHistory history = GuardHistory.EMPTY;

		final Map<Session, Instant> cancelled = new ConcurrentHashMap<>();

		Set<Session> cancelledSince(Instant now) {
			this.cancelled.values().removeIf((at) -> at.isBefore(now.minus(REMEMBER_CANCELLED)));
			return this.cancelled.keySet();
		}

	}

}
