package io.pglockwatch.poll;

/**
 * Which targets this replica polls. A replica of a cluster polls the targets of the shards it leads; the others are
 * polled by the replicas that lead them, and this one shows them as they publish them. Asked at every tick, so it must
 * answer from memory, at once.
 */
@FunctionalInterface
public interface TargetAssignment {

	/** Every target, always: a replica alone. */
	TargetAssignment ALL = (target) -> true;

	/** Whether this replica polls the target now. */
	boolean watches(String target);

	/**
	 * Whether the assignment is known yet: before it is (a replica that has not run its first election round), a tick
	 * neither polls the target nor gives it up, so a replica alone does not drop its targets' series for a moment.
	 */
	default boolean settled() {
		return true;
	}

}
