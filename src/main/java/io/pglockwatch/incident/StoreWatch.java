package io.pglockwatch.incident;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.function.ToDoubleFunction;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.context.SmartLifecycle;
import org.springframework.scheduling.TaskScheduler;

/**
 * Keeps the latest size of the incident store, read on its own scheduler at startup and then every minute, and
 * exports it as {@code pglockwatch_store_*} gauges; the gauges and the {@code store} health component read the
 * cached figures, so a scrape or a health check never touches the store. A figure that cannot be read is NaN; the
 * log says so once when it starts failing (WARN) and once when it is readable again (INFO), not every minute.
 *
 * <p>For an H2 file it also compacts the file after a read that finds it sparse ({@link StoreCompaction}), on the same
 * thread, and then reads the figures again.
 */
public final class StoreWatch implements SmartLifecycle, MeterBinder {

	static final Duration INTERVAL = Duration.ofSeconds(60);

	private static final Log logger = LogFactory.getLog(StoreWatch.class);

	private final StoreReader reader;

	private final TaskScheduler scheduler;

	private final StoreCompaction compaction;

	private volatile StoreFigures figures;

	private volatile ScheduledFuture<?> ticks;

	StoreWatch(StoreReader reader, TaskScheduler scheduler) {
		this(reader, scheduler, null);
	}

	/** With the compaction of an H2 file; null for other stores. */
	StoreWatch(StoreReader reader, TaskScheduler scheduler, StoreCompaction compaction) {
		this.reader = reader;
		this.scheduler = scheduler;
		this.compaction = compaction;
	}

	/** Where the store lives. */
	public StoreLocation location() {
		return this.reader.location();
	}

	/** The latest figures; null before the first read has finished. */
	public StoreFigures figures() {
		return this.figures;
	}

	/** Reads the figures now, logging a change of what is unreadable; never throws. */
	void refresh() {
		StoreFigures previous = this.figures;
		StoreFigures next;
		try {
			next = this.reader.read();
			if (this.compaction != null && this.compaction.compactIfSparse(next) != null) {
				next = this.reader.read();
			}
		}
		catch (RuntimeException ex) {
			// the reader catches its reads; this is a last guard so the schedule never dies
			next = new StoreFigures(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Map.of("size", ex.toString()),
					Instant.now());
		}
		this.figures = next;
		Map<String, String> was = (previous != null) ? previous.unreadable() : Map.of();
		if (!next.unreadable().keySet().equals(was.keySet())) {
			if (next.unreadable().isEmpty()) {
				logger.info("The incident store's size is readable again (" + location().type() + ")");
			}
			else {
				logger.warn("Cannot read the incident store's " + String.join(", ", next.unreadable().keySet())
						+ " (" + location().type() + "); the pglockwatch_store_* gauges show NaN until it can: "
						+ next.unreadable());
			}
		}
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		gauge(registry, "pglockwatch.store.size", StoreFigures::sizeBytes,
				"Size of the incident store: the H2 file, or the PostgreSQL database; NaN in memory or unreadable");
		gauge(registry, "pglockwatch.store.live", StoreFigures::liveBytes,
				"Live data in the incident store: in the H2 file, or the store's tables in PostgreSQL");
		gauge(registry, "pglockwatch.store.volume.free", StoreFigures::volumeFreeBytes,
				"Usable space on the file system of the H2 file; NaN for other stores");
		gauge(registry, "pglockwatch.store.volume.total", StoreFigures::volumeTotalBytes,
				"Size of the file system of the H2 file; NaN for other stores");
		if (this.compaction != null) {
			this.compaction.bindTo(registry);
		}
	}

	private void gauge(MeterRegistry registry, String name, ToDoubleFunction<StoreFigures> figure, String description) {
		Gauge.builder(name, this, (watch) -> {
			StoreFigures latest = watch.figures;
			return (latest != null) ? figure.applyAsDouble(latest) : Double.NaN;
		}).baseUnit("bytes").description(description).register(registry);
	}

	@Override
	public void start() {
		// the first read right away, then every minute
		this.ticks = this.scheduler.scheduleAtFixedRate(this::refresh, INTERVAL);
	}

	@Override
	public void stop() {
		ScheduledFuture<?> running = this.ticks;
		if (running != null) {
			running.cancel(false);
			this.ticks = null;
		}
	}

	@Override
	public boolean isRunning() {
		return this.ticks != null;
	}

}
