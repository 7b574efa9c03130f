package io.pglockwatch.detect;

import java.time.Duration;

/**
 * When a situation becomes an incident, for one target ({@code pglockwatch.detection.*} merged with the
 * target's overrides).
 */
public record Thresholds(DdlQueue ddlQueue, BlockingChain blockingChain, IdleBlocker idleBlocker,
		Duration resolveAfter) {

	public static Thresholds defaults() {
		return new Thresholds(new DdlQueue(3, Duration.ofSeconds(2), 20, Duration.ofSeconds(30), Duration.ofSeconds(10)),
				new BlockingChain(5, Duration.ofSeconds(30)), new IdleBlocker(Duration.ofSeconds(30)),
				Duration.ofSeconds(10));
	}

	/**
	 * Opens when the DDL waited at least {@code minWait} with at least {@code minQueued} behind it; a DDL the
	 * pg-lockwatch gate runs ({@link GateAttempt}) only once it has also waited {@code gateGrace}.
	 */
	public record DdlQueue(int minQueued, Duration minWait, int criticalQueued, Duration criticalWait,
			Duration gateGrace) {

		/** With the default {@code gateGrace} of 10 s. */
		public DdlQueue(int minQueued, Duration minWait, int criticalQueued, Duration criticalWait) {
			this(minQueued, minWait, criticalQueued, criticalWait, Duration.ofSeconds(10));
		}

	}

	/** Opens when a root has at least {@code minBlocked} behind it and the oldest has waited {@code minWait}. */
	public record BlockingChain(int minBlocked, Duration minWait) {
	}

	/** Opens when an idle-in-transaction root has been idle {@code minIdle} while it blocks someone. */
	public record IdleBlocker(Duration minIdle) {
	}

}
