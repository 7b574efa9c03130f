package io.pglockwatch.dashboard;

import java.util.List;
import java.util.Locale;

import io.pglockwatch.detect.TimelinePoint;

/**
 * The incident page's chart, drawn as SVG on the server: queue depth and longest wait over time, each on its own
 * scale. Long timelines are thinned to at most {@value #MAX_POINTS} points, keeping each bucket's peak.
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
		int buckets = Math.min(MAX_POINTS, timeline.size());
		int[] depth = new int[buckets];
		double[] wait = new double[buckets];
		for (int i = 0; i < timeline.size(); i++) {
			int b = (int) ((long) i * buckets / timeline.size());
			depth[b] = Math.max(depth[b], timeline.get(i).queueDepth());
			wait[b] = Math.max(wait[b], timeline.get(i).maxWait().toMillis() / 1000.0);
		}
		int maxDepth = 1;
		double maxWait = 1;
		for (int b = 0; b < buckets; b++) {
			maxDepth = Math.max(maxDepth, depth[b]);
			maxWait = Math.max(maxWait, wait[b]);
		}
		StringBuilder depthLine = new StringBuilder();
		StringBuilder waitLine = new StringBuilder();
		for (int b = 0; b < buckets; b++) {
			double x = (buckets == 1) ? 0 : (double) b * WIDTH / (buckets - 1);
			depthLine.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, HEIGHT - depth[b] * (double) HEIGHT / maxDepth));
			waitLine.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, HEIGHT - wait[b] * HEIGHT / maxWait));
		}
		return new TimelineChart(WIDTH, HEIGHT, depthLine.toString().trim(), waitLine.toString().trim(), maxDepth, maxWait,
				timeline.get(0).at().toString(), timeline.get(timeline.size() - 1).at().toString(), timeline.size());
	}

}
