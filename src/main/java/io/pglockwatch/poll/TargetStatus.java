package io.pglockwatch.poll;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/** The latest {@link TargetState} of every configured target, in configuration order. */
public final class TargetStatus {

	private final Map<String, AtomicReference<TargetState>> states = new LinkedHashMap<>();

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

	void set(TargetState state) {
		this.states.get(state.name()).set(state);
	}

}
