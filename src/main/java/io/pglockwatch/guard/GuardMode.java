package io.pglockwatch.guard;

import java.util.Locale;

/** What the guard does with its decisions ({@code pglockwatch.guard.mode}). */
public enum GuardMode {

	/** Nothing is decided. */
	OFF,

	/** Decisions are logged, counted and recorded, nothing is done. */
	DRY_RUN,

	/** Decisions are carried out. */
	ENFORCE;

	/** As configured and shown: {@code off}, {@code dry-run}, {@code enforce}. */
	public String label() {
		return name().toLowerCase(Locale.ROOT).replace('_', '-');
	}

	/** The mode of a label ({@code dry-run}). */
	public static GuardMode of(String label) {
		return valueOf(label.toUpperCase(Locale.ROOT).replace('-', '_'));
	}

}
