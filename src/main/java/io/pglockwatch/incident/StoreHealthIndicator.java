package io.pglockwatch.incident;

import java.util.ArrayList;
import java.util.List;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;

/**
 * The {@code store} health component: what kind of store holds the incident history, the H2 file, its size and live
 * data, and the space on its volume, as last read by {@link StoreWatch} (never read here), and whether writes to it
 * fail ({@link StoreWriter}). DOWN while writes fail (with since when, why, and how many wait in memory), else UP,
 * or UNKNOWN while the figures cannot be read. It is not in the liveness or readiness group (those hold only the
 * probe states), because restarting the pod frees no disk and revives no database: it would only drop the writes
 * waiting in memory. Figures that are not known are left out rather than shown as NaN.
 */
final class StoreHealthIndicator implements HealthIndicator {

	private final StoreWatch watch;

	private final StoreWriter writes;

	StoreHealthIndicator(StoreWatch watch, StoreWriter writes) {
		this.watch = watch;
		this.writes = writes;
	}

	@Override
	public Health health() {
		StoreLocation location = this.watch.location();
		StoreFigures figures = this.watch.figures();
		StoreWriter.Failure failure = this.writes.failure();
		Health.Builder health = (failure != null) ? Health.down()
				: (figures != null && figures.unreadable().isEmpty()) ? Health.up() : Health.status(Status.UNKNOWN);
		health.withDetail("type", location.type());
		if (failure != null) {
			health.withDetail("writesFailingSince", failure.since().toString());
			health.withDetail("writeError", failure.error());
		}
		health.withDetail("writesWaiting", this.writes.waiting());
		health.withDetail("writesDropped", this.writes.dropped());
		if (location.file() != null) {
			health.withDetail("file", location.file().toString());
		}
		if (figures == null) {
			return health.withDetail("figures", "not read yet").build();
		}
		bytes(health, "sizeBytes", figures.sizeBytes());
		bytes(health, "liveBytes", figures.liveBytes());
		bytes(health, "volumeFreeBytes", figures.volumeFreeBytes());
		bytes(health, "volumeTotalBytes", figures.volumeTotalBytes());
		if (!figures.unreadable().isEmpty()) {
			// which figures, not the error texts (they may hold paths or host names); the log has those
			List<String> unreadable = new ArrayList<>(figures.unreadable().keySet());
			unreadable.sort(null);
			health.withDetail("unreadable", unreadable);
		}
		return health.withDetail("readAt", figures.readAt().toString()).build();
	}

	private static void bytes(Health.Builder health, String name, double value) {
		if (!Double.isNaN(value)) {
			health.withDetail(name, (long) value);
		}
	}

}
