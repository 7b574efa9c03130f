package io.pglockwatch.bench;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.pglockwatch.api.GraphView;
import io.pglockwatch.detect.Detector;
import io.pglockwatch.detect.Finding;
import io.pglockwatch.detect.IncidentEvent;
import io.pglockwatch.detect.IncidentLifecycle;
import io.pglockwatch.detect.Thresholds;
import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.lock.LockSnapshot;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What one poll of a target costs in the JVM on a bad day ({@link SyntheticSnapshots#badDay}): building the wait
 * graph from the snapshot, running the detectors over it, advancing the incident lifecycle (the first poll that
 * opens every incident, and a later one that updates them), and the JSON model of the graph. The goal is the
 * graph built in 10 ms or less at 10,000 sessions / 20,000 lock rows. Run with {@code bench/graph-jmh.sh}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class GraphBenchmark {

	/** Backends in the snapshot; it has twice as many lock rows. */
	@Param({ "1000", "10000", "20000" })
	public int sessions;

	private final Thresholds thresholds = Thresholds.defaults();

	private final AtomicLong ids = new AtomicLong();

	private LockSnapshot snapshot;

	private LockWaitGraph graph;

	private IncidentLifecycle steady;

	@Setup(Level.Trial)
	public void setUp() {
		SyntheticSnapshots.Shape shape = SyntheticSnapshots.badDay(this.sessions);
		this.snapshot = shape.snapshot();
		this.graph = LockWaitGraph.of(this.snapshot);
		// a generator that stopped producing what it promises must not make a trivially fast benchmark
		check(this.snapshot.sessions().size() == this.sessions && this.snapshot.locks().size() == 2 * this.sessions,
				"snapshot size");
		check(this.graph.ddlQueues().size() == shape.ddlQueueDepths().size(),
				this.graph.ddlQueues().size() + " DDL queues, expected " + shape.ddlQueueDepths().size());
		check(this.graph.sessions().size() == shape.graphNodes(),
				this.graph.sessions().size() + " graph nodes, expected " + shape.graphNodes());
		check(this.graph.edges().size() > this.graph.sessions().size(), "too few edges: " + this.graph.edges().size());
		List<Finding> findings = Detector.detect(this.graph, this.thresholds);
		check(findings.stream().filter(Finding::qualifies).count() >= shape.ddlQueueDepths().size(), "findings");
		this.steady = new IncidentLifecycle(this.snapshot.target(), List.of(), this::nextId);
		List<IncidentEvent> opened = this.steady.advance(this.graph, this.thresholds);
		check(opened.size() >= shape.ddlQueueDepths().size(), "incidents opened: " + opened.size());
		System.out.printf("%nsnapshot: %d sessions, %d lock rows; graph: %d nodes, %d edges, %d DDL queues, %d roots, "
				+ "%d findings, %d incidents%n", this.snapshot.sessions().size(), this.snapshot.locks().size(),
				this.graph.sessions().size(), this.graph.edges().size(), this.graph.ddlQueues().size(),
				this.graph.rootBlockers().size(), findings.size(), this.steady.active().size());
	}

	private String nextId() {
		return "inc-" + this.ids.incrementAndGet();
	}

	/** LockWaitGraph.of: the part with the 10 ms goal. */
	@Benchmark
	public LockWaitGraph buildGraph() {
		return LockWaitGraph.of(this.snapshot);
	}

	@Benchmark
	public List<Finding> detect() {
		return Detector.detect(this.graph, this.thresholds);
	}

	/** The first poll of the bad day: every qualifying finding opens an incident. */
	@Benchmark
	public List<IncidentEvent> lifecycleFirstPoll() {
		return new IncidentLifecycle(this.snapshot.target(), List.of(), this::nextId).advance(this.graph,
				this.thresholds);
	}

	/** A later poll of the same bad day: every incident is updated. */
	@Benchmark
	public List<IncidentEvent> lifecycleNextPoll() {
		return this.steady.advance(this.graph, this.thresholds);
	}

	/** The JSON model of the graph the API and the dashboard serve (not its serialization). */
	@Benchmark
	public GraphView graphView() {
		return GraphView.of(this.graph);
	}

	private static void check(boolean condition, String message) {
		if (!condition) {
			throw new IllegalStateException("synthetic snapshot is broken: " + message);
		}
	}

}
