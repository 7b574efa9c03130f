package io.pglockwatch.incident;

import java.time.Duration;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.hibernate.validator.constraints.time.DurationMin;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Incident history kept in the store ({@code spring.datasource.*}), pruned in the background
 * ({@code pglockwatch.incidents.*}).
 *
 * @param maxAge resolved incidents older than this are deleted
 * @param maxCount at most this many incidents are kept; the oldest resolved go first
 * @param pruneInterval how often pruning runs
 */
@Validated
@ConfigurationProperties(prefix = "pglockwatch.incidents", ignoreUnknownFields = false)
public record IncidentProperties(
		@NotNull @DurationMin(hours = 1, message = "must be at least 1h") @DefaultValue("30d") Duration maxAge,
		@Min(value = 1, message = "must be at least 1") @DefaultValue("10000") int maxCount,
		@NotNull @DurationMin(seconds = 1, message = "must be at least 1s") @DefaultValue("1h") Duration pruneInterval) {
}
