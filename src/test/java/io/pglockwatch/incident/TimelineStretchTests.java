package io.pglockwatch.incident;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import io.pglockwatch.detect.TimelinePoint;
import io.pglockwatch.incident.TimelineStretch.Step;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Which polls of an incident become timeline rows, replayed on a list that stands for the table. */
class TimelineStretchTests {

	private static final Instant T0 = Instant.parse("2026-11-23T12:00:00Z");

	private final List<TimelinePoint> rows = new ArrayList<>();

	private TimelineStretch stretch;

	/** What the writer does with a point: the same steps on a list. */
	private Step poll(double seconds, int depth, double waitSeconds) {
		TimelinePoint point = new TimelinePoint(T0.plusMillis((long) (seconds * 1000)), depth,
				Duration.ofMillis((long) (waitSeconds * 1000)));
		TimelineStretch.Next next = (this.stretch != null) ? this.stretch.next(point) : TimelineStretch.first(point);
		switch (next.step()) {
			case APPEND -> this.rows.add(point);
			case MOVE_LAST -> this.rows.set(this.rows.size() - 1, point);
			case NONE -> {
			}
		}
		this.stretch = next.stretch();
		return next.step();
	}

	private static TimelinePoint point(double seconds, int depth, double waitSeconds) {
		return new TimelinePoint(T0.plusMillis((long) (seconds * 1000)), depth,
				Duration.ofMillis((long) (waitSeconds * 1000)));
	}

	@Test
	void aFlatRunIsItsFirstAndItsLatestPoll() {
		assertThat(poll(0, 5, 3)).isEqualTo(Step.APPEND);
		assertThat(poll(1, 5, 4)).isEqualTo(Step.APPEND);
		for (int s = 2; s <= 30; s++) {
			assertThat(poll(s, 5, 3 + s)).isEqualTo(Step.MOVE_LAST);
		}
		assertThat(this.rows).containsExactly(point(0, 5, 3), point(30, 5, 33));
	}

	@Test
	void aDepthChangeIsRecordedAtItsPollAndThePollBeforeItStays() {
		for (int s = 0; s <= 10; s++) {
			poll(s, 5, 3 + s);
		}
		assertThat(poll(11, 6, 14)).isEqualTo(Step.APPEND);
		for (int s = 12; s <= 20; s++) {
			poll(s, 6, 3 + s);
		}
		assertThat(this.rows).containsExactly(point(0, 5, 3), point(10, 5, 13), point(11, 6, 14), point(20, 6, 23));
	}

	@Test
	void aWaitThatFallsBackOrJumpsEndsTheRun() {
		for (int s = 0; s <= 5; s++) {
			poll(s, 4, 10 + s);
		}
		// the longest waiter got its lock; the next one has waited 2 s
		poll(6, 4, 2);
		poll(7, 4, 3);
		// a wait measured 50 ms late is still on the line
		assertThat(poll(8.05, 4, 4)).isEqualTo(Step.MOVE_LAST);
		assertThat(this.rows).containsExactly(point(0, 4, 10), point(5, 4, 15), point(6, 4, 2), point(8.05, 4, 4));
	}

	@Test
	void theZeroPointsBetweenTwoTriesAreOneRun() {
		poll(0, 5, 3);
		poll(1, 5, 4);
		for (int s = 2; s <= 8; s++) {
			poll(s, 0, 0);
		}
		poll(9, 5, 1);
		assertThat(this.rows).containsExactly(point(0, 5, 3), point(1, 5, 4), point(2, 0, 0), point(8, 0, 0),
				point(9, 5, 1));
	}

	@Test
	void aLongFlatRunKeepsARowAMinute() {
		for (int s = 0; s <= 600; s++) {
			poll(s, 5, s);
		}
		assertThat(this.rows).hasSizeLessThanOrEqualTo(12);
		assertThat(this.rows.get(0)).isEqualTo(point(0, 5, 0));
		assertThat(this.rows.get(this.rows.size() - 1)).isEqualTo(point(600, 5, 600));
		for (int i = 1; i < this.rows.size(); i++) {
			assertThat(Duration.between(this.rows.get(i - 1).at(), this.rows.get(i).at()))
				.isLessThanOrEqualTo(TimelineStretch.HEARTBEAT);
		}
	}

	@Test
	void aRetriedPointIsNotWrittenTwice() {
		poll(0, 5, 3);
		assertThat(poll(0, 5, 3)).isEqualTo(Step.NONE);
		poll(1, 5, 4);
		assertThat(poll(1, 5, 4)).isEqualTo(Step.NONE);
		assertThat(this.rows).containsExactly(point(0, 5, 3), point(1, 5, 4));
	}

}
