package io.pglockwatch.security;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import io.pglockwatch.testsupport.ShiftableClock;
import org.junit.jupiter.api.Test;

import org.springframework.security.crypto.password.PasswordEncoder;

import static org.assertj.core.api.Assertions.assertThat;

class PasswordVerifierTests {

	private static final Instant START = Instant.parse("2026-12-06T10:00:00Z");

	/** A slow stand-in for bcrypt that counts its checks and how many ran at once. */
	static final class SlowEncoder implements PasswordEncoder {

		final AtomicInteger checks = new AtomicInteger();

		final AtomicInteger encodes = new AtomicInteger();

		final AtomicInteger running = new AtomicInteger();

		final AtomicInteger mostAtOnce = new AtomicInteger();

		@Override
		public String encode(CharSequence raw) {
			this.encodes.incrementAndGet();
			return "hash:" + raw + ":" + this.encodes.get();
		}

		@Override
		public boolean matches(CharSequence raw, String encoded) {
			this.checks.incrementAndGet();
			int now = this.running.incrementAndGet();
			this.mostAtOnce.accumulateAndGet(now, Math::max);
			try {
				Thread.sleep(20);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			this.running.decrementAndGet();
			return encoded.equals("stored:" + raw);
		}

	}

	@Test
	void aBurstOfTheSameCredentialsCostsOneCheckAndNeverMoreThanThePermitsAtOnce() throws Exception {
		SlowEncoder bcrypt = new SlowEncoder();
		PasswordVerifier verifier = new PasswordVerifier(bcrypt, Clock.fixed(START, ZoneOffset.UTC));
		ExecutorService clients = Executors.newFixedThreadPool(50);
		try {
			List<CompletableFuture<Boolean>> results = new ArrayList<>();
			for (int i = 0; i < 50; i++) {
				results.add(CompletableFuture.supplyAsync(() -> verifier.matches("secret", "stored:secret"), clients));
				results.add(CompletableFuture.supplyAsync(() -> verifier.matches("guess" + results.size(), "stored:secret"), clients));
			}
			assertThat(results.stream().map(CompletableFuture::join).filter(Boolean::booleanValue)).hasSize(50);
		}
		finally {
			clients.shutdown();
		}
		assertThat(bcrypt.mostAtOnce.get()).isLessThanOrEqualTo(PasswordVerifier.permits());
		// each wrong guess is checked (never remembered); the right password once
		assertThat(bcrypt.checks.get()).isEqualTo(50 + 1);
	}

	@Test
	void aMatchIsRememberedForAMinuteOnly() {
		SlowEncoder bcrypt = new SlowEncoder();
		ShiftableClock clock = ShiftableClock.at(START);
		PasswordVerifier verifier = new PasswordVerifier(bcrypt, clock);
		assertThat(verifier.matches("secret", "stored:secret")).isTrue();
		clock.shift(PasswordVerifier.REMEMBER.minusSeconds(1));
		assertThat(verifier.matches("secret", "stored:secret")).isTrue();
		assertThat(bcrypt.checks.get()).isEqualTo(1);
		clock.shift(Duration.ofSeconds(2));
		assertThat(verifier.matches("secret", "stored:secret")).isTrue();
		assertThat(bcrypt.checks.get()).isEqualTo(2);
		// a remembered match is for that stored hash only: a changed password hash checks again
		assertThat(verifier.matches("secret", "stored:other")).isFalse();
		assertThat(bcrypt.checks.get()).isEqualTo(3);
	}

	@Test
	void theDummyPasswordForUnknownUsersIsHashedOnce() {
		SlowEncoder bcrypt = new SlowEncoder();
		PasswordVerifier verifier = new PasswordVerifier(bcrypt, Clock.systemUTC());
		String first = verifier.encode("userNotFoundPassword");
		assertThat(verifier.encode("userNotFoundPassword")).isEqualTo(first);
		assertThat(bcrypt.encodes.get()).isEqualTo(1);
	}

}
