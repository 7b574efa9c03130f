package io.pglockwatch.detect;

import java.time.Duration;
import java.time.Instant;

/** One poll of an active incident: how many were queued and the longest wait then. */
public record TimelinePoint(Instant at, int queueDepth, Duration maxWait) {
}
