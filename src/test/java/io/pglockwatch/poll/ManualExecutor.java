package io.pglockwatch.poll;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Executor;

/**
 * Stands in for the poll worker pool: tasks wait until the test runs them, on the test's thread, so a test
 * decides exactly when a poll starts and whether it is still running at the next tick.
 */
final class ManualExecutor implements Executor {

	private final Deque<Runnable> tasks = new ArrayDeque<>();

	@Override
	public void execute(Runnable task) {
		this.tasks.addLast(task);
	}

	int pending() {
		return this.tasks.size();
	}

	void runNext() {
		Runnable task = this.tasks.pollFirst();
		if (task == null) {
			throw new IllegalStateException("no task submitted");
		}
		task.run();
	}

	/** Runs tasks until none is left, including those that the tasks themselves submit. */
	void runAll() {
		while (!this.tasks.isEmpty()) {
			runNext();
		}
	}

}
