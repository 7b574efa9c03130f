package io.pglockwatch.poll;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The latest {@link TargetState} of every configured target, in configuration order: of a target this replica polls,
 * as its latest poll left it; of one another replica polls, as that replica last published it
 * ({@link #mirror(TargetState)}).
 */
public final class TargetStatus {

	private final Map<String, AtomicReference<TargetState>> states = new LinkedHashMap<>();

	/** The targets this replica polls now. */
	private final Set<String> watched = ConcurrentHashMap.newKeySet();

	public TargetStatus(List<String> names) {
		for (String name : names) {
			this.states.put(name, new AtomicReference<>(TargetState.initial(name)));
		}
	}

	public List<String> names() {
		return List.copyOf(this.states.keySet());
	}

	/** The target's state, or null for a name that is not configured. */
	public TargetState get(String name) {
		AtomicReference<TargetState> state = this.states.get(name);
		return state == null ? null : state.get();
	}

	public List<TargetState> all() {
		return this.states.values().stream().map(AtomicReference::get).toList();
	}

	/** Whether this replica polls the target now; the state of one it does not is another replica's. */
	public boolean watched(String name) {
		return this.watched.contains(name);
	}

	/**
	 * Shows the state another replica published for a target this one does not poll; ignored for a target this one
	 * polls (its own polls are fresher) or does not know.
	 */
	public void mirror(TargetState state) {
		AtomicReference<TargetState> current = this.states.get(state.name());
		if (current != null && !this.watched.contains(state.name())) {
			current.set(state);
		}
	}

	void set(TargetState state) {
		this.states.get(state.name()).set(state);
	}

	void watch(String name, boolean watching) {
		if (watching) {
			this.watched.add(name);
		}
		else {
			this.watched.remove(name);
		}
	}

}
