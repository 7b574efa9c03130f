package io.pglockwatch.incident;

import java.time.Duration;

import io.pglockwatch.detect.TimelinePoint;

/**
 * Which polls of an incident become timeline rows: the open end of its timeline, a straight run of polls.
 *
 * <p>A run has one queue depth throughout and a longest wait that either stays put (nothing waits, as in the zero
 * points between two tries of a migration) or grows with the clock (the same session keeps waiting longest). Such a
 * run is kept as two rows, its first poll and its latest; the latest row moves along with each poll that continues
 * the run. A poll that breaks the run (another depth, a wait that jumped or fell back) leaves the previous poll's row
 * where it is and starts a new run at its own poll. So every change is recorded at the poll it happened, the last row
 * is always the latest poll, and a line drawn through the rows is the line drawn through every poll, waits within
 * {@link #TOLERANCE}. A run also ends after {@link #HEARTBEAT}, so a long flat incident keeps a row a minute.
 *
 * <p>Today's rule; the rows alone define the timeline, so changing it needs no migration: a row-per-poll timeline
 * stored by earlier versions reads the same way.
 *
 * @param start the first poll of the run; its row stays
 * @param growth how the longest wait grows along the run, 0 or 1 second per second; null while the run is its start
 * @param end the latest poll of the run, whose row moves; null while the run is its start
 */
record TimelineStretch(TimelinePoint start, Integer growth, TimelinePoint end) {

	/** The longest a run lasts: a flat incident still gets a row this often. */
	static final Duration HEARTBEAT = Duration.ofSeconds(60);

	/** How far a poll's longest wait may be from the run's line and still continue it. */
	static final Duration TOLERANCE = Duration.ofMillis(100);

	/** What to do with a poll's point. */
	enum Step {

		/** Insert a row for it. */
		APPEND,

		/** Move the incident's last row to it. */
		MOVE_LAST,

		/** Nothing: it is the last row already (a write that is being retried). */
		NONE

	}

	/** What to do with a point, and the run after it. */
	record Next(Step step, TimelineStretch stretch) {
	}

	/** The first point of an incident, or the first this process sees of it (after a restart). */
	static Next first(TimelinePoint point) {
		return new Next(Step.APPEND, new TimelineStretch(point, null, null));
	}

	/** The point of the next poll. */
	Next next(TimelinePoint point) {
		if (point.equals((this.end != null) ? this.end : this.start)) {
			return new Next(Step.NONE, this);
		}
		if (this.end == null) {
			Integer growth = growth(this.start, point);
			return (growth != null) ? new Next(Step.APPEND, new TimelineStretch(this.start, growth, point)) : first(point);
		}
		if (fits(this.start, this.growth, point)) {
			return new Next(Step.MOVE_LAST, new TimelineStretch(this.start, this.growth, point));
		}
		// the run ends at its latest poll, whose row stays where it is; the next run starts from there
		return new TimelineStretch(this.end, null, null).next(point);
	}

	private static Integer growth(TimelinePoint from, TimelinePoint to) {
		if (fits(from, 1, to)) {
			return 1;
		}
		return fits(from, 0, to) ? 0 : null;
	}

	/** Whether {@code to} is on the run from {@code from} whose longest wait grows {@code growth} seconds a second. */
	private static boolean fits(TimelinePoint from, int growth, TimelinePoint to) {
		Duration elapsed = Duration.between(from.at(), to.at());
		if (to.queueDepth() != from.queueDepth() || elapsed.isNegative() || elapsed.compareTo(HEARTBEAT) >= 0) {
			return false;
		}
		if (from.maxWait() == null || to.maxWait() == null) {
			return from.maxWait() == to.maxWait();
		}
		long expected = from.maxWait().toMillis() + growth * elapsed.toMillis();
		return Math.abs(to.maxWait().toMillis() - expected) <= TOLERANCE.toMillis();
	}

}
