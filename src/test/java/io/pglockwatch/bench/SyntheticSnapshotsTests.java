package io.pglockwatch.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.stream.Collectors;

import io.pglockwatch.detect.Detector;
import io.pglockwatch.detect.Finding;
import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.detect.Thresholds;
import io.pglockwatch.graph.DdlQueue;
import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.graph.RootBlocker;
import org.junit.jupiter.api.Test;

/** The benchmark's bad day has the shape its javadoc promises, so a broken generator cannot make it fast. */
class SyntheticSnapshotsTests {

	@Test
	void tenThousandSessionsTwentyThousandRowsFiftyDdlQueues() {
		SyntheticSnapshots.Shape shape = SyntheticSnapshots.badDay(10_000);
		assertThat(shape.snapshot().sessions()).hasSize(10_000);
		assertThat(shape.snapshot().locks()).hasSize(20_000);

		LockWaitGraph graph = LockWaitGraph.of(shape.snapshot());
		assertThat(graph.ddlQueues()).hasSize(50);
		Map<Integer, Integer> depths = graph.ddlQueues()
			.stream()
			.collect(Collectors.toMap(DdlQueue::pid, DdlQueue::queueDepth));
		assertThat(depths).isEqualTo(shape.ddlQueueDepths());
		assertThat(depths.values()).allSatisfy((depth) -> assertThat(depth).isBetween(40, 400));
		assertThat(graph.ddlQueues()).allSatisfy((queue) -> assertThat(queue.rootBlockerPids()).hasSize(1));
		assertThat(graph.sessions()).hasSize(shape.graphNodes());
		assertThat(graph.rootBlockers()).hasSize(shape.rootBlockers());
		assertThat(graph.rootBlockers()).filteredOn(RootBlocker::onCycle).hasSize(2 * shape.cycles());
		assertThat(graph.cycles()).hasSize(shape.cycles());
		assertThat(graph.edges()).hasSizeGreaterThan(graph.sessions().size());
		assertThat(graph.sessions().values()).anySatisfy((node) -> assertThat(node.parallelWorkers()).hasSize(2));

		assertThat(Detector.detect(graph, Thresholds.defaults())).filteredOn(Finding::qualifies)
			.filteredOn((f) -> f.kind() == IncidentKind.DDL_LOCK_QUEUE)
			.hasSize(50);
	}

	@Test
	void scalesWithSessions() {
		for (int sessions : new int[] { 1_000, 20_000 }) {
			SyntheticSnapshots.Shape shape = SyntheticSnapshots.badDay(sessions);
			assertThat(shape.snapshot().sessions()).hasSize(sessions);
			assertThat(shape.snapshot().locks()).hasSize(2 * sessions);
			assertThat(shape.ddlQueueDepths()).hasSize(Math.max(5, sessions / 200));
			LockWaitGraph graph = LockWaitGraph.of(shape.snapshot());
			assertThat(graph.ddlQueues()).hasSize(shape.ddlQueueDepths().size());
			assertThat(graph.sessions()).hasSize(shape.graphNodes());
		}
	}

}
