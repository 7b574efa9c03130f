package io.pglockwatch.cluster;

import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link FairShare}: who takes a free shard and who hands one over, as one replica sees the live members.
 */
class FairShareTests {

	@Test
	void aReplicaAloneTakesEveryShardAndKeepsThem() {
		FairShare alone = new FairShare(4, "a", Map.of());

		assertThat(alone.floor()).isEqualTo(4);
		assertThat(alone.takes(0)).isTrue();
		assertThat(alone.takes(3)).isTrue();
		assertThat(alone.handsOver(4)).isFalse();
	}

	@Test
	void aReplicaAtItsShareLeavesAFreeShardToAMemberBelowIt() {
		FairShare share = new FairShare(4, "a", Map.of("b", 0));

		assertThat(share.takes(1)).as("both need one, the lease decides").isTrue();
		assertThat(share.takes(2)).isFalse();
		assertThat(new FairShare(4, "a", Map.of("b", 1)).takes(2)).isFalse();
		assertThat(new FairShare(4, "a", Map.of("b", 2)).takes(2)).as("nobody else would take it").isTrue();
	}

	@Test
	void aMemberBelowTheFloorIsServedBeforeOneBelowTheCeiling() {
		// 4 shards over 3 members: 1 or 2 each
		FairShare share = new FairShare(4, "a", Map.of("b", 0, "c", 2));

		assertThat(share.floor()).isEqualTo(1);
		assertThat(share.ceiling()).isEqualTo(2);
		assertThat(share.takes(1)).as("b needs it more").isFalse();
		assertThat(share.takes(0)).isTrue();
	}

	@Test
	void theReplicaLeadingTheMostHandsOneOverWhileAnotherIsBelowItsShare() {
		assertThat(new FairShare(4, "a", Map.of("b", 0)).handsOver(4)).isTrue();
		assertThat(new FairShare(4, "a", Map.of("b", 1)).handsOver(3)).isTrue();
		assertThat(new FairShare(4, "a", Map.of("b", 2)).handsOver(2)).isFalse();
		// a third member joins 2/2: the first name of the two richest hands one over, the other keeps its two
		assertThat(new FairShare(4, "a", Map.of("b", 2, "c", 0)).handsOver(2)).isTrue();
		assertThat(new FairShare(4, "b", Map.of("a", 2, "c", 0)).handsOver(2)).isFalse();
		// 2/1/1 is even: nobody is below the floor
		assertThat(new FairShare(4, "a", Map.of("b", 1, "c", 1)).handsOver(2)).isFalse();
	}

	@Test
	void nothingMoreIsHandedOverWhileAShardIsFree() {
		// a handed one over, b has not taken it yet
		assertThat(new FairShare(4, "a", Map.of("b", 0)).handsOver(3)).isFalse();
		assertThat(new FairShare(4, "a", Map.of("b", 1)).handsOver(3)).isTrue();
	}

	@Test
	void aShardHandedOverGoesToTheMemberThatNeedsItMostFirstNameOnTies() {
		// 9 shards over 4 members: 2 or 3 each; c is below the floor, b and d below the ceiling
		assertThat(new FairShare(9, "a", Map.of("b", 2, "c", 1, "d", 2)).recipient()).isEqualTo("c");
		assertThat(new FairShare(9, "a", Map.of("d", 2, "b", 2, "c", 3)).recipient()).isEqualTo("b");
		assertThat(new FairShare(4, "a", Map.of("b", 2)).recipient()).as("nobody needs one").isNull();
	}

}
