package io.pglockwatch.graph;

/**
 * A session that blocks others and waits for no lock itself (or sits on a wait cycle).
 *
 * @param blockedCount sessions that wait on it directly or transitively
 * @param onCycle it is part of a wait cycle (a deadlock the server has not broken yet)
 */
public record RootBlocker(int pid, int blockedCount, boolean onCycle) {
}
