package io.pglockwatch.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;

import org.springframework.security.crypto.password.PasswordEncoder;

/**
 * bcrypt for the configured users, made safe for HTTP Basic, which checks the password on every request. Without
 * care, a burst of 200 Basic requests is 200 bcrypt checks competing for the CPUs with the polls: measured here, the
 * polls fell a second behind. So:
 * <ul>
 * <li>at most {@link #permits()} bcrypt checks run at once (one CPU is always left to the polls); the others wait;</li>
 * <li>a password that matched is remembered for {@link #REMEMBER} by a SHA-256 of the password and the stored hash,
 * so a client repeating the same Basic credentials costs one bcrypt check a minute, not one per request. A wrong
 * password is never remembered (and the login throttle slows guessing).</li>
 * </ul>
 */
final class PasswordVerifier implements PasswordEncoder {

	static final Duration REMEMBER = Duration.ofSeconds(60);

	private static final int MAX_REMEMBERED = 1_000;

	private final PasswordEncoder bcrypt;

	private final Semaphore checks = new Semaphore(permits(), true);

	private final Map<String, Instant> matched = new ConcurrentHashMap<>();

	private final Clock clock;

	private String lastEncodedRaw;

	private String lastEncoded;

	PasswordVerifier(PasswordEncoder bcrypt, Clock clock) {
		this.bcrypt = bcrypt;
		this.clock = clock;
	}

	/** bcrypt checks allowed at once: all CPUs but one, at least one. */
	static int permits() {
		return Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
	}

	/**
	 * The service stores no passwords, so the only thing it ever encodes is Spring Security's dummy password for
	 * unknown users (timing protection), which it does lazily on the first logins: a cold burst of 200 Basic requests
	 * made 200 bcrypt hashes of it at once. The last result is kept and reused for the same input.
	 */
	@Override
	public synchronized String encode(CharSequence rawPassword) {
		String raw = rawPassword.toString();
		if (!raw.equals(this.lastEncodedRaw)) {
			this.lastEncoded = this.bcrypt.encode(rawPassword);
			this.lastEncodedRaw = raw;
		}
		return this.lastEncoded;
	}

	@Override
	public boolean matches(CharSequence rawPassword, String encodedPassword) {
		if (rawPassword == null || encodedPassword == null) {
			return false;
		}
		String key = key(rawPassword, encodedPassword);
		Instant now = this.clock.instant();
		Instant until = this.matched.get(key);
		if (until != null && until.isAfter(now)) {
			return true;
		}
		boolean matches;
		try {
			this.checks.acquire();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return false;
		}
		try {
			// a burst of requests with the same credentials waited here together: the first one's check serves all
			until = this.matched.get(key);
			if (until != null && until.isAfter(this.clock.instant())) {
				return true;
			}
			matches = this.bcrypt.matches(rawPassword, encodedPassword);
		}
		finally {
			this.checks.release();
		}
		if (matches) {
			if (this.matched.size() >= MAX_REMEMBERED) {
				this.matched.values().removeIf((expiry) -> !expiry.isAfter(now));
				if (this.matched.size() >= MAX_REMEMBERED) {
					this.matched.clear();
				}
			}
			this.matched.put(key, now.plus(REMEMBER));
		}
		return matches;
	}

	@Override
	public boolean upgradeEncoding(String encodedPassword) {
		return this.bcrypt.upgradeEncoding(encodedPassword);
	}

	private static String key(CharSequence rawPassword, String encodedPassword) {
		try {
			MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
			sha256.update(encodedPassword.getBytes(StandardCharsets.UTF_8));
			sha256.update((byte) 0);
			sha256.update(rawPassword.toString().getBytes(StandardCharsets.UTF_8));
			return HexFormat.of().formatHex(sha256.digest());
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

}
