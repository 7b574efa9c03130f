package io.pglockwatch.security;

import java.time.Duration;
import java.time.Instant;

import io.pglockwatch.testsupport.ShiftableClock;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class LoginThrottleTests {

	private final ShiftableClock clock = ShiftableClock.at(Instant.parse("2026-12-06T10:00:00Z"));

	private final LoginThrottle throttle = new LoginThrottle(this.clock);

	@Test
	void theDelayDoublesFromTheFifthFailureAndStopsAtFifteenMinutes() {
		assertThat(LoginThrottle.delay(4)).isZero();
		assertThat(LoginThrottle.delay(5)).isEqualTo(Duration.ofSeconds(1));
		assertThat(LoginThrottle.delay(6)).isEqualTo(Duration.ofSeconds(2));
		assertThat(LoginThrottle.delay(9)).isEqualTo(Duration.ofSeconds(16));
		assertThat(LoginThrottle.delay(20)).isEqualTo(LoginThrottle.MAX_DELAY);
		assertThat(LoginThrottle.delay(1_000)).isEqualTo(LoginThrottle.MAX_DELAY);
	}

	@Test
	void aUserIsThrottledFromAnyAddressAndAnAddressForAnyUser() {
		for (int i = 0; i < LoginThrottle.FREE_FAILURES; i++) {
			assertThat(this.throttle.blockedFor("sre", "10.0.0." + i)).isZero();
			this.throttle.failed("sre", "10.0.0." + i);
		}
		assertThat(this.throttle.blockedFor("sre", "10.9.9.9")).isEqualTo(Duration.ofSeconds(1));
		assertThat(this.throttle.blockedFor("someone", "10.9.9.9")).isZero();
		for (int i = 0; i < LoginThrottle.FREE_FAILURES; i++) {
			this.throttle.failed("guess" + i, "192.0.2.1");
		}
		assertThat(this.throttle.blockedFor("anyone", "192.0.2.1")).isEqualTo(Duration.ofSeconds(1));
	}

	@Test
	void aSuccessClearsTheCountAndAnOldCountStartsOver() {
		for (int i = 0; i < LoginThrottle.FREE_FAILURES; i++) {
			this.throttle.failed("sre", "192.0.2.1");
		}
		this.clock.shift(Duration.ofSeconds(2));
		assertThat(this.throttle.blockedFor("sre", "192.0.2.1")).isZero(); // the one-second delay has passed
		this.throttle.succeeded("sre", "192.0.2.1");
		this.throttle.failed("sre", "192.0.2.1");
		assertThat(this.throttle.blockedFor("sre", "192.0.2.1")).isZero();

		for (int i = 0; i < 10; i++) {
			this.throttle.failed("ops", "192.0.2.2");
		}
		assertThat(this.throttle.blockedFor("ops", "192.0.2.3")).isPositive();
		this.clock.shift(LoginThrottle.FORGET_AFTER.plusMinutes(1));
		this.throttle.failed("ops", "192.0.2.3");
		assertThat(this.throttle.blockedFor("ops", "192.0.2.3")).as("the count started over at 1").isZero();
	}

	@Test
	void aFloodOfNewNamesKeepsTheMemoryBounded() {
		for (int i = 0; i < 3 * LoginThrottle.MAX_KEYS; i++) {
			this.throttle.failed("user" + i, "198.51.100." + (i % 200));
		}
		assertThat(this.throttle.size()).isLessThanOrEqualTo(LoginThrottle.MAX_KEYS);
	}

}
