package io.pglockwatch.graph;

import java.time.Duration;

/**
 * A session that blocks others and waits for no lock itself (or sits on a wait cycle).
 *
 * @param blockedCount sessions that wait on it directly or transitively
 * @param longestWait the longest lock wait among them: how long this chain has existed at least
 * @param onCycle it is part of a wait cycle (a deadlock the server has not broken yet)
 */
public record RootBlocker(int pid, int blockedCount, Duration longestWait, boolean onCycle) {
}
