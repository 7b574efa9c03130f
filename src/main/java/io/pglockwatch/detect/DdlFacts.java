package io.pglockwatch.detect;

import java.time.Duration;

import io.pglockwatch.lock.LockMode;

/** The waiting DDL of a {@code ddl-lock-queue} incident. */
public record DdlFacts(SessionFacts session, LockMode mode, String relation, Duration waited) {
}
