package io.pglockwatch.guard;

import java.time.Duration;
import java.util.List;

import jakarta.validation.constraints.NotNull;
import org.hibernate.validator.constraints.time.DurationMin;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The guard ({@code pglockwatch.guard.*}): cancels a DDL that keeps a queue behind it (a lock_timeout for migrations
 * that forgot one) and, if asked, ends an idle-in-transaction root blocker. Off unless turned on.
 *
 * @param mode off, dry-run (decide, record and count, but do nothing) or enforce
 * @param cancelDdlAfter cancel a DDL that has kept at least {@code min-queued} sessions queued this long, counted
 * from when the queue first reached {@code min-queued}
 * @param terminateIdleBlockersAfter end an idle-in-transaction root blocker that has blocked others this long; 0 =
 * never
 * @param excludeApplications application_name values the guard never acts on
 * @param excludeUsers roles the guard never acts on
 */
@Validated
@ConfigurationProperties(prefix = "pglockwatch.guard", ignoreUnknownFields = false)
public record GuardProperties(@NotNull @DefaultValue("off") GuardMode mode,
		@NotNull @DurationMin(millis = 0, message = "must not be negative") @DefaultValue("10s") Duration cancelDdlAfter,
		@NotNull @DurationMin(millis = 0, message = "must not be negative") @DefaultValue("0s") Duration terminateIdleBlockersAfter,
		List<String> excludeApplications, List<String> excludeUsers) {

	public GuardProperties {
		excludeApplications = (excludeApplications == null) ? List.of() : List.copyOf(excludeApplications);
		excludeUsers = (excludeUsers == null) ? List.of() : List.copyOf(excludeUsers);
	}

}
