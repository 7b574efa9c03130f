package io.pglockwatch.poll;

/**
 * Told about every finished poll, on the poll's own thread: keep it quick and never block on I/O here
 * (hand slow work to another thread), or the target's next poll is late.
 */
@FunctionalInterface
public interface PollListener {

	void onPoll(PollOutcome outcome);

}
