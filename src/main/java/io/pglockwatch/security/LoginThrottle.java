package io.pglockwatch.security;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Slows down password guessing: after {@link #FREE_FAILURES} failed logins in a row for one user name, or from one
 * client address, further attempts for it are refused for a delay that doubles with every further failure (1 s,
 * 2 s, 4 s ... at most {@link #MAX_DELAY}). A successful login clears the user's count and the address's count. A
 * count is forgotten {@link #FORGET_AFTER} after its last failure. Both keys count, so neither spreading guesses
 * over many user names from one address nor over many addresses for one user name escapes it.
 * <p>
 * At most {@link #MAX_KEYS} keys are kept; a flood of new keys evicts the idle ones first, so memory stays bounded.
 */
final class LoginThrottle {

	static final int FREE_FAILURES = 5;

	static final Duration MAX_DELAY = Duration.ofMinutes(15);

	static final Duration FORGET_AFTER = Duration.ofMinutes(30);

	static final int MAX_KEYS = 10_000;

	private final Map<String, Failures> failures = new ConcurrentHashMap<>();

	private final Clock clock;

	LoginThrottle(Clock clock) {
		this.clock = clock;
	}

	/** How long an attempt for this user from this address must still wait; zero when it may go ahead. */
	Duration blockedFor(String user, String address) {
		Instant now = this.clock.instant();
		Duration byUser = remaining(userKey(user), now);
		Duration byAddress = remaining(addressKey(address), now);
		return byUser.compareTo(byAddress) >= 0 ? byUser : byAddress;
	}

	void failed(String user, String address) {
		Instant now = this.clock.instant();
		if (this.failures.size() >= MAX_KEYS) {
			evictIdle(now);
		}
		if (user != null && !user.isEmpty()) {
			this.failures.merge(userKey(user), Failures.first(now), (old, one) -> old.next(now));
		}
		if (address != null) {
			this.failures.merge(addressKey(address), Failures.first(now), (old, one) -> old.next(now));
		}
	}

	void succeeded(String user, String address) {
		if (user != null) {
			this.failures.remove(userKey(user));
		}
		if (address != null) {
			this.failures.remove(addressKey(address));
		}
	}

	/** Users and addresses with failures on record. */
	int size() {
		return this.failures.size();
	}

	private Duration remaining(String key, Instant now) {
		Failures f = (key == null) ? null : this.failures.get(key);
		if (f == null || f.count() < FREE_FAILURES) {
			return Duration.ZERO;
		}
		Duration left = Duration.between(now, f.last().plus(delay(f.count())));
		return left.isNegative() ? Duration.ZERO : left;
	}

	/** The wait after the n-th failure in a row: none up to FREE_FAILURES - 1, then 1 s doubling, capped. */
	static Duration delay(int failures) {
		if (failures < FREE_FAILURES) {
			return Duration.ZERO;
		}
		int doublings = Math.min(failures - FREE_FAILURES, 20);
		Duration delay = Duration.ofSeconds(1L << doublings);
		return delay.compareTo(MAX_DELAY) > 0 ? MAX_DELAY : delay;
	}

	private void evictIdle(Instant now) {
		for (Iterator<Failures> it = this.failures.values().iterator(); it.hasNext();) {
			Failures f = it.next();
			if (f.last().plus(FORGET_AFTER).isBefore(now) || f.last().plus(delay(f.count())).isBefore(now)) {
				it.remove();
			}
		}
		if (this.failures.size() >= MAX_KEYS) {
			// still full of keys that are locked right now: forget the oldest half rather than grow without bound
			this.failures.entrySet()
				.stream()
				.sorted(Map.Entry.comparingByValue((a, b) -> a.last().compareTo(b.last())))
				.limit(MAX_KEYS / 2)
				.map(Map.Entry::getKey)
				.toList()
				.forEach(this.failures::remove);
		}
	}

	private static String userKey(String user) {
		return (user == null || user.isEmpty()) ? null : "user:" + user;
	}

	private static String addressKey(String address) {
		return (address == null) ? null : "address:" + address;
	}

	private record Failures(int count, Instant last) {

		static Failures first(Instant now) {
			return new Failures(1, now);
		}

		Failures next(Instant now) {
			// a count whose last failure was long ago starts over
			return this.last.plus(FORGET_AFTER).isBefore(now) ? first(now) : new Failures(this.count + 1, now);
		}

	}

}
