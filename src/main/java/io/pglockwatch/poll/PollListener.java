package io.pglockwatch.poll;

/**
 * Told about every finished poll, on the poll's own thread: keep it quick and never block on I/O here
 * (hand slow work to another thread), or the target's next poll is late.
 */
@FunctionalInterface
public interface PollListener {

	void onPoll(PollOutcome outcome);

	/**
	 * This replica starts or stops polling the target (it gained or lost the lead of the target's shard), on the tick
	 * thread: keep it quick. Called before the first poll of a watch and after the last one.
	 */
	default void onWatch(String target, boolean watching) {
	}

}
