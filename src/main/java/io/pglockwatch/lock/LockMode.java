package io.pglockwatch.lock;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * PostgreSQL's heavyweight lock modes, in PostgreSQL's own order, with its conflict table
 * (src/backend/storage/lmgr/lock.c). Nothing else in pg-lockwatch compares mode names.
 */
public enum LockMode {

	ACCESS_SHARE("AccessShareLock"),
	ROW_SHARE("RowShareLock"),
	ROW_EXCLUSIVE("RowExclusiveLock"),
	SHARE_UPDATE_EXCLUSIVE("ShareUpdateExclusiveLock"),
	SHARE("ShareLock"),
	SHARE_ROW_EXCLUSIVE("ShareRowExclusiveLock"),
	EXCLUSIVE("ExclusiveLock"),
	ACCESS_EXCLUSIVE("AccessExclusiveLock");

	private static final LockMode[] MODES = values();

	// conflict bit masks indexed by ordinal, bit i = conflicts with MODES[i]
	private static final int[] CONFLICTS = new int[MODES.length];

	static {
		conflict(ACCESS_SHARE, ACCESS_EXCLUSIVE);
		conflict(ROW_SHARE, EXCLUSIVE, ACCESS_EXCLUSIVE);
		conflict(ROW_EXCLUSIVE, SHARE, SHARE_ROW_EXCLUSIVE, EXCLUSIVE, ACCESS_EXCLUSIVE);
		conflict(SHARE_UPDATE_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE, SHARE, SHARE_ROW_EXCLUSIVE, EXCLUSIVE,
				ACCESS_EXCLUSIVE);
		conflict(SHARE, ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE, SHARE_ROW_EXCLUSIVE, EXCLUSIVE, ACCESS_EXCLUSIVE);
		conflict(SHARE_ROW_EXCLUSIVE, ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE, SHARE, SHARE_ROW_EXCLUSIVE, EXCLUSIVE,
				ACCESS_EXCLUSIVE);
		conflict(EXCLUSIVE, ROW_SHARE, ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE, SHARE, SHARE_ROW_EXCLUSIVE, EXCLUSIVE,
				ACCESS_EXCLUSIVE);
		conflict(ACCESS_EXCLUSIVE, MODES);
	}

	private static void conflict(LockMode mode, LockMode... with) {
		for (LockMode other : with) {
			CONFLICTS[mode.ordinal()] |= other.bit();
		}
	}

	private final String pgName;

	LockMode(String pgName) {
		this.pgName = pgName;
	}

	/** The name PostgreSQL uses in pg_locks.mode, e.g. {@code AccessExclusiveLock}. */
	public String pgName() {
		return this.pgName;
	}

	/** This mode as a bit, for hold masks. */
	public int bit() {
		return 1 << ordinal();
	}

	/** Bit mask of the modes this one conflicts with. */
	public int conflictMask() {
		return CONFLICTS[ordinal()];
	}

	public boolean conflictsWith(LockMode other) {
		return (conflictMask() & other.bit()) != 0;
	}

	/** Whether any of the modes in {@code holdMask} conflicts with this one. */
	public boolean conflictsWithAny(int holdMask) {
		return (conflictMask() & holdMask) != 0;
	}

	/**
	 * A relation lock in this mode blocks ordinary writes (it conflicts with RowExclusive): the modes
	 * taken by ALTER TABLE, CREATE INDEX, CREATE TRIGGER, LOCK TABLE, REFRESH MATERIALIZED VIEW...
	 */
	public boolean blocksWrites() {
		return conflictsWith(ROW_EXCLUSIVE);
	}

	/** The modes in a hold mask. */
	public static Set<LockMode> fromMask(int mask) {
		EnumSet<LockMode> modes = EnumSet.noneOf(LockMode.class);
		for (LockMode mode : MODES) {
			if ((mask & mode.bit()) != 0) {
				modes.add(mode);
			}
		}
		return modes;
	}

	/**
	 * Parses pg_locks.mode. Also accepts the SQL spelling ({@code ACCESS EXCLUSIVE}) and the enum name.
	 * @throws IllegalArgumentException naming the accepted values when {@code name} is not a lock mode
	 */
	public static LockMode of(String name) {
		LockMode mode = lookup(name);
		if (mode == null) {
			throw new IllegalArgumentException("'" + name + "' is not a lock mode; expected one of "
					+ Arrays.stream(MODES).map(LockMode::pgName).toList());
		}
		return mode;
	}

	/** Like {@link #of} but null for a name that is not a heavyweight table lock mode (e.g. SIReadLock). */
	public static LockMode lookup(String name) {
		if (name == null) {
			return null;
		}
		String normalized = name.replace(" ", "").replace("_", "").toLowerCase(Locale.ROOT);
		for (LockMode mode : MODES) {
			String pg = mode.pgName.toLowerCase(Locale.ROOT);
			if (normalized.equals(pg) || normalized.equals(pg.substring(0, pg.length() - 4))) {
				return mode;
			}
		}
		return null;
	}

}
