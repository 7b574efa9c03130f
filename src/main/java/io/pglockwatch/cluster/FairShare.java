package io.pglockwatch.cluster;

import java.util.Map;
import java.util.TreeMap;

/**
 * How many shards each live member should lead, as one replica sees the cluster at the start of a round, and what
 * that replica does about it. With {@code n} live members each should lead {@code floor(shards / n)} or
 * {@code ceil(shards / n)} shards. A member below the floor needs a shard most, one below the ceiling less, one at
 * the ceiling not at all.
 *
 * <ul>
 * <li>This replica takes a free shard unless another live member needs one more than it does: nobody at the
 * ceiling takes a shard that a member below it would take, yet a shard is never left free for lack of a taker.</li>
 * <li>The member that leads the most (ties: the first name) hands one shard over per round when another member
 * needs it: it leads more than the ceiling while someone is below it, or more than the floor while someone is below
 * the floor. It does so only while every shard is led: a shard already free goes to the needy member first, and two
 * rich members do not both hand one over for the same need. The shard goes to the {@link #recipient() neediest
 * member}, which takes it from the rich member while that one still leads it; until then the offer stands, and the
 * rich member makes no other ({@link Leadership}).</li>
 * </ul>
 *
 * @param shards the number of shards
 * @param self this replica's {@code instance-name}
 * @param others how many shards each other live member leads, by name
 */
record FairShare(int shards, String self, Map<String, Integer> others) {

	private static final int BELOW_FLOOR = 2;

	private static final int BELOW_CEILING = 1;

	FairShare {
		others = Map.copyOf(others);
	}

	int floor() {
		return this.shards / (this.others.size() + 1);
	}

	int ceiling() {
		int members = this.others.size() + 1;
		return (this.shards + members - 1) / members;
	}

	/** Whether this replica, leading {@code led} shards, takes a free one. */
	boolean takes(int led) {
		return need(led) >= neediestOther();
	}

	/** Whether this replica, leading {@code led} shards, hands one of them over this round. */
	boolean handsOver(int led) {
		int othersLed = this.others.values().stream().mapToInt(Integer::intValue).sum();
		if (othersLed + led < this.shards) {
			return false;
		}
		int neediest = neediestOther();
		boolean needed = (led > ceiling() && neediest >= BELOW_CEILING) || (led > floor() && neediest == BELOW_FLOOR);
		return needed && leadsTheMost(led);
	}

	/**
	 * The member a shard handed over goes to: the one that needs it most, ties broken by the first name; null when no
	 * other member needs one.
	 */
	String recipient() {
		String recipient = null;
		int most = 0;
		for (Map.Entry<String, Integer> other : new TreeMap<>(this.others).entrySet()) {
			int need = need(other.getValue());
			if (need > most) {
				most = need;
				recipient = other.getKey();
			}
		}
		return recipient;
	}

	private boolean leadsTheMost(int led) {
		return this.others.entrySet()
			.stream()
			.noneMatch((other) -> other.getValue() > led
					|| (other.getValue() == led && other.getKey().compareTo(this.self) < 0));
	}

	private int neediestOther() {
		return this.others.values().stream().mapToInt(this::need).max().orElse(0);
	}

	private int need(int led) {
		if (led < floor()) {
			return BELOW_FLOOR;
		}
		return (led < ceiling()) ? BELOW_CEILING : 0;
	}

}
