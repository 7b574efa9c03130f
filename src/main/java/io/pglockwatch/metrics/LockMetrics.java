package io.pglockwatch.metrics;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.function.ToDoubleFunction;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.lock.LockMode;
import io.pglockwatch.lock.Standby;
import io.pglockwatch.poll.PollFailure;
import io.pglockwatch.poll.PollListener;
import io.pglockwatch.poll.PollOutcome;
import io.pglockwatch.poll.TargetState;
import io.pglockwatch.poll.TargetStatus;

import org.springframework.stereotype.Component;

/**
 * Per-target poll and lock metrics. Gauges read the latest {@link TargetState}; nothing is queried at
 * scrape time. Every configured target has its series from startup on the replica that polls it (the one that leads
 * its shard; other replicas drop them at their first tick), and a lock gauge without a fresh poll
 * (before the first one, or while the target is down) reads NaN, never a made-up 0:
 * {@code pglockwatch_target_up} says why.
 */
@Component
class LockMetrics implements MeterBinder, PollListener {

	private static final String FROM_LAST_POLL = " (from the last successful poll; NaN while the target is down)";

	/** Buckets of the start-delay histogram, a fixed set so that each {@code le} is documented. */
	static final Duration[] START_DELAY_BUCKETS = { Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
			Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(500),
			Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5) };

	private final TargetStatus status;

	private final Map<String, PerTarget> targets = new ConcurrentHashMap<>();

	private volatile Timer startDelay;

	private volatile MeterRegistry registry;

	LockMetrics(TargetStatus status) {
		this.status = status;
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		// one histogram for all targets: it answers "do polls start on time?" without buckets per target
		this.startDelay = Timer.builder("pglockwatch.poll.start.delay")
			.description("How late polls start after their scheduled tick, all targets together")
			.serviceLevelObjectives(START_DELAY_BUCKETS)
			.register(registry);
		this.registry = registry;
		for (String name : this.status.names()) {
			register(name);
		}
	}

	/**
	 * The target's series come from the replica that polls it: they are removed when this replica stops polling the
	 * target (another leads its shard now) and registered again, from zero, when it starts again.
	 */
	@Override
	public void onWatch(String target, boolean watching) {
		MeterRegistry registry = this.registry;
		if (registry == null) {
			return;
		}
		synchronized (this.targets) {
			PerTarget meters = this.targets.get(target);
			if (watching && meters == null) {
				register(target);
			}
			else if (!watching && meters != null) {
				this.targets.remove(target);
				meters.meters.forEach(registry::remove);
			}
		}
	}

	private void register(String name) {
		MeterRegistry registry = this.registry;
		PerTarget meters = new PerTarget(registry, name);
		List<Meter> all = meters.meters;
		all.add(gauge(registry, "pglockwatch.target.up", name, null,
				"1 if the target's last poll succeeded, 0 if it failed or has not finished yet",
				(s) -> s.isUp() ? 1 : 0));
		all.add(gauge(registry, "pglockwatch.last.successful.poll.timestamp", name, "seconds",
				"Unix time of the target's last successful poll",
				(s) -> s.lastSuccessAt() == null ? Double.NaN : s.lastSuccessAt().toEpochMilli() / 1000.0));
		for (LockMode mode : LockMode.values()) {
			all.add(Gauge.builder("pglockwatch.lock.waiters", this.status,
					(st) -> fresh(st.get(name), (g) -> g.waitersByMode().getOrDefault(mode, 0)))
				.tag("target", name)
				.tag("mode", mode.pgName())
				.description("Sessions waiting for a heavyweight lock, by requested mode" + FROM_LAST_POLL)
				.register(registry));
		}
		all.add(gauge(registry, "pglockwatch.lock.wait.max", name, "seconds",
				"Longest current lock wait" + FROM_LAST_POLL, (s) -> fresh(s, (g) -> seconds(g.maxWait()))));
		all.add(gauge(registry, "pglockwatch.root.blockers", name, null,
				"Sessions that block others and wait for no lock themselves" + FROM_LAST_POLL,
				(s) -> fresh(s, (g) -> g.rootBlockers().size())));
		all.add(gauge(registry, "pglockwatch.ddl.queue.depth", name, null,
				"Sessions queued behind the deepest waiting DDL, 0 when none" + FROM_LAST_POLL,
				(s) -> fresh(s, (g) -> g.ddlQueues().isEmpty() ? 0 : g.deepestDdlQueue().queueDepth())));
		all.add(gauge(registry, "pglockwatch.target.in.recovery", name, null,
				"1 if the target is a hot standby (in recovery), 0 if it is a primary, as of its last successful poll",
				(s) -> (s.role() == null) ? Double.NaN : (s.isStandby() ? 1 : 0)));
		all.add(gauge(registry, "pglockwatch.standby.replay.lag", name, "seconds",
				"Age of the last transaction a hot standby replayed from the primary (pg_last_xact_replay_timestamp); "
						+ "NaN on a primary" + FROM_LAST_POLL,
				(s) -> standby(s, (st) -> {
					Duration lag = st.replayLag(s.graph().takenAt());
					return (lag != null) ? seconds(lag) : Double.NaN;
				})));
		all.add(gauge(registry, "pglockwatch.standby.replay.waiting", name, null,
				"1 while a hot standby's replay of WAL waits for queries on the standby (a lock, a buffer pin or a "
						+ "snapshot they hold), else 0; NaN on a primary" + FROM_LAST_POLL,
				(s) -> standby(s, (st) -> Standby.replayWaitsForQueries(st.replayWait()) ? 1 : 0)));
		for (String kind : Standby.CONFLICT_KINDS) {
			all.add(FunctionCounter.builder("pglockwatch.standby.conflicts", this.status, (st) -> {
				TargetState state = st.get(name);
				return (state.standby() != null) ? state.standby().conflicts().getOrDefault(kind, 0L) : 0;
			})
				.tag("target", name)
				.tag("kind", kind)
				.description("Queries on a hot standby cancelled because they conflicted with replay, by kind, as "
						+ "pg_stat_database_conflicts counts them since the server's statistics were reset")
				.register(registry));
		}
		all.add(gauge(registry, "pglockwatch.ddl.queue.wait", name, "seconds",
				"How long the DDL with the deepest queue has waited for its lock, 0 when none" + FROM_LAST_POLL,
				(s) -> fresh(s, (g) -> g.ddlQueues().isEmpty() ? 0 : seconds(g.deepestDdlQueue().waited()))));
		this.targets.put(name, meters);
	}

	private Gauge gauge(MeterRegistry registry, String meter, String target, String unit, String help,
			ToDoubleFunction<TargetState> value) {
		return Gauge.builder(meter, this.status, (st) -> value.applyAsDouble(st.get(target)))
			.tag("target", target)
			.baseUnit(unit)
			.description(help)
			.register(registry);
	}

	private static double fresh(TargetState state, ToDoubleFunction<LockWaitGraph> value) {
		LockWaitGraph graph = state.freshGraph();
		return graph == null ? Double.NaN : value.applyAsDouble(graph);
	}

	private static double standby(TargetState state, ToDoubleFunction<Standby> value) {
		return (state.freshGraph() == null || state.standby() == null) ? Double.NaN : value.applyAsDouble(state.standby());
	}

	private static double seconds(Duration duration) {
		return duration.toNanos() / 1e9;
	}

	@Override
	public void onPoll(PollOutcome outcome) {
		PerTarget meters = this.targets.get(outcome.target());
		if (meters == null) {
			return;
		}
		meters.duration.record(outcome.duration());
		meters.overruns.increment(outcome.overruns());
		Timer delay = this.startDelay;
		if (delay != null) { // null only before the registry has bound this binder
			delay.record(outcome.startDelay());
		}
		if (!outcome.succeeded()) {
			meters.failures.get(outcome.failure()).increment();
			meters.previousSuccessNanos = 0;
			return;
		}
		long now = System.nanoTime();
		if (meters.previousSuccessNanos != 0) {
			// integral of waiting sessions over time; a gap after failed polls is not guessed at
			double elapsed = (now - meters.previousSuccessNanos) / 1e9;
			meters.blockedSeconds.add(outcome.graph().lockWaiterCount() * elapsed);
		}
		meters.previousSuccessNanos = now;
	}

	/** Meters updated per poll rather than read from state. */
	private static final class PerTarget {

		final Timer duration;

		final Map<PollFailure, Counter> failures = new EnumMap<>(PollFailure.class);

		final DoubleAdder blockedSeconds = new DoubleAdder();

		final Counter overruns;

		volatile long previousSuccessNanos;

		/** Every series of the target, to remove when another replica polls it. */
		final List<Meter> meters = new ArrayList<>();

		PerTarget(MeterRegistry registry, String target) {
			this.duration = Timer.builder("pglockwatch.poll.duration")
				.description("Time one poll of the target took: connect if needed, read, build the graph")
				.tag("target", target)
				.register(registry);
			this.meters.add(this.duration);
			for (PollFailure reason : PollFailure.values()) {
				this.failures.put(reason, Counter.builder("pglockwatch.poll.failures")
					.description("Failed polls by reason: connect, timeout, permission, query")
					.tag("target", target)
					.tag("reason", reason.label())
					.register(registry));
			}
			this.overruns = Counter.builder("pglockwatch.poll.overruns")
				.description("Ticks skipped because the target's previous poll was still running, or because the tick ran "
						+ "late, right after the previous one (a scheduler catching up)")
				.tag("target", target)
				.register(registry);
			this.meters.addAll(this.failures.values());
			this.meters.add(this.overruns);
			this.meters.add(FunctionCounter.builder("pglockwatch.blocked.session", this.blockedSeconds, DoubleAdder::sum)
				.description("Integral of lock-waiting sessions over time: rate() of it is the average number waiting")
				.tag("target", target)
				.baseUnit("seconds")
				.register(registry));
		}

	}

}
