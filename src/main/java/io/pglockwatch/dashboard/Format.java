package io.pglockwatch.dashboard;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

import org.springframework.stereotype.Component;

/** Times for people, used by the templates as {@code @fmt}: an age ("12m ago") and the UTC timestamp. */
@Component("fmt")
class Format {

	private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
		.withZone(ZoneOffset.UTC);

	private final Clock clock;

	Format(Clock clock) {
		this.clock = clock;
	}

	public String ago(Instant instant) {
		return instant == null ? "never" : duration(Duration.between(instant, this.clock.instant())) + " ago";
	}

	public String timestamp(Instant instant) {
		return instant == null ? "" : TIMESTAMP.format(instant);
	}

	public String iso(Instant instant) {
		return instant == null ? "" : instant.toString();
	}

	public String seconds(Double seconds) {
		return seconds == null ? "?" : duration(Duration.ofMillis((long) (seconds * 1000)));
	}

	/** 42s, 12m 5s, 3h 12m */
	static String duration(Duration d) {
		long s = Math.max(0, d.toSeconds());
		if (s < 60) {
			return s + "s";
		}
		if (s < 3600) {
			return (s / 60) + "m " + (s % 60) + "s";
		}
		return (s / 3600) + "h " + ((s % 3600) / 60) + "m";
	}

}
