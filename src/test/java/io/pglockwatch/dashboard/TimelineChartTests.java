package io.pglockwatch.dashboard;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import io.pglockwatch.detect.TimelinePoint;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TimelineChartTests {

	private static final Instant T0 = Instant.parse("2026-11-23T12:00:00Z");

	@Test
	void pointsAreDrawnWhereTheyAreInTime() {
		// a run of 59 s kept as its first and its latest poll, then a change
		TimelineChart chart = TimelineChart.of(List.of(new TimelinePoint(T0, 5, Duration.ofSeconds(1)),
				new TimelinePoint(T0.plusSeconds(59), 5, Duration.ofSeconds(60)),
				new TimelinePoint(T0.plusSeconds(60), 10, Duration.ofSeconds(61)),
				new TimelinePoint(T0.plusSeconds(120), 10, Duration.ofSeconds(121))));
		assertThat(chart.depthPoints()).isEqualTo("0.0,90.0 354.0,90.0 360.0,0.0 720.0,0.0");
		assertThat(chart.points()).isEqualTo(4);
		assertThat(chart.start()).isEqualTo("2026-11-23T12:00:00Z");
		assertThat(chart.end()).isEqualTo("2026-11-23T12:02:00Z");
	}

	@Test
	void aLongTimelineIsThinnedKeepingEachSlicesPeak() {
		List<TimelinePoint> timeline = new ArrayList<>();
		for (int s = 0; s < 3600; s++) {
			timeline.add(new TimelinePoint(T0.plusSeconds(s), (s == 1801) ? 40 : 4, Duration.ofSeconds(s)));
		}
		TimelineChart chart = TimelineChart.of(timeline);
		assertThat(chart.depthPoints().split(" ")).hasSize(TimelineChart.MAX_POINTS);
		assertThat(chart.maxDepth()).isEqualTo(40);
		assertThat(chart.points()).isEqualTo(3600);
	}

}
