package io.pglockwatch.gate.bench;

/** The gate's case of {@link ReaderLatencyBenchmark}: null until the gate's API is in this build. */
final class GateCase {

	private GateCase() {
	}

	static ReaderLatencyBenchmark.Migration migration() {
		return null;
	}

}
