package io.pglockwatch.bench;

import java.nio.charset.StandardCharsets;

import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.incident.PeakGraph;
import tools.jackson.databind.json.JsonMapper;

/**
 * How big the stored peak graph of an incident is, by the number of sessions of the bad-day snapshot it was taken from:
 * the figure that, with the soak's per-incident figure, sizes the H2 store's volume. Prints a table.
 */
public final class PeakGraphSizeBenchmark {

	private PeakGraphSizeBenchmark() {
	}

	public static void main(String[] args) {
		JsonMapper json = JsonMapper.builder().build();
		System.out.println("| sessions in the snapshot | sessions in the graph | peak graph JSON (bytes) | per graph session (bytes) |");
		System.out.println("|---|---|---|---|");
		for (int sessions : new int[] { 1000, 2000, 5000 }) {
			LockWaitGraph graph = LockWaitGraph.of(SyntheticSnapshots.badDay(sessions).snapshot());
			int bytes = json.writeValueAsString(PeakGraph.of(graph)).getBytes(StandardCharsets.UTF_8).length;
			System.out.printf("| %,d | %,d | %,d | %,d |%n", sessions, graph.sessions().size(), bytes,
					bytes / graph.sessions().size());
		}
	}

}
