package io.pglockwatch.dashboard;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import io.pglockwatch.detect.TimelinePoint;

/**
 * The incident page's chart, drawn as SVG on the server: queue depth and longest wait over time, each on its own
 * scale, with lines between the stored points. Points sit where they are in time, not one per step: the timeline
 * keeps the polls where something changed, and a line between two of them is what every poll in between showed.
 * Long timelines are thinned to at most {@value #MAX_POINTS} points, keeping each time slice's peak.
 */
record TimelineChart(int width, int height, String depthPoints, String waitPoints, int maxDepth, double maxWaitSeconds,
		String start, String end, int points) {

	static final int MAX_POINTS = 600;

	static final int WIDTH = 720;

	static final int HEIGHT = 180;

	static TimelineChart of(List<TimelinePoint> timeline) {
		if (timeline.isEmpty()) {
			return new TimelineChart(WIDTH, HEIGHT, "", "", 0, 0, "", "", 0);
		}
		Instant first = timeline.get(0).at();
		Instant last = timeline.get(timeline.size() - 1).at();
		long span = Math.max(0, Duration.between(first, last).toMillis());
		// each point at its own x; a long timeline in MAX_POINTS slices of time, each with the peak of its points
		boolean thinned = timeline.size() > MAX_POINTS;
		List<double[]> drawn = new ArrayList<>(); // x, depth, wait
		for (TimelinePoint point : timeline) {
			long elapsed = Math.min(span, Math.max(0, Duration.between(first, point.at()).toMillis()));
			double x = (span == 0) ? 0 : (double) elapsed * WIDTH / span;
			if (thinned) {
				x = Math.round(x * (MAX_POINTS - 1) / WIDTH) * (double) WIDTH / (MAX_POINTS - 1);
			}
			double[] previous = drawn.isEmpty() ? null : drawn.get(drawn.size() - 1);
			if (previous != null && previous[0] == x) {
				previous[1] = Math.max(previous[1], point.queueDepth());
				previous[2] = Math.max(previous[2], seconds(point.maxWait()));
			}
			else {
				drawn.add(new double[] { x, point.queueDepth(), seconds(point.maxWait()) });
			}
		}
		double maxDepth = 1;
		double maxWait = 1;
		for (double[] point : drawn) {
			maxDepth = Math.max(maxDepth, point[1]);
			maxWait = Math.max(maxWait, point[2]);
		}
		StringBuilder depthLine = new StringBuilder();
		StringBuilder waitLine = new StringBuilder();
		for (double[] point : drawn) {
			depthLine.append(String.format(Locale.ROOT, "%.1f,%.1f ", point[0], HEIGHT - point[1] * HEIGHT / maxDepth));
			waitLine.append(String.format(Locale.ROOT, "%.1f,%.1f ", point[0], HEIGHT - point[2] * HEIGHT / maxWait));
		}
		return new TimelineChart(WIDTH, HEIGHT, depthLine.toString().trim(), waitLine.toString().trim(), (int) maxDepth, maxWait,
				first.toString(), last.toString(), timeline.size());
	}

	private static double seconds(Duration duration) {
		return (duration != null) ? duration.toMillis() / 1000.0 : 0;
	}

}
