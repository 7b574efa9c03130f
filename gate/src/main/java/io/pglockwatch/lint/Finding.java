package io.pglockwatch.lint;

import io.pglockwatch.lock.LockMode;

/**
 * One finding of the lint.
 * @param file the file, as given (or the name passed to {@link Lint#lint(String, String)})
 * @param line the 1-based line the statement starts on
 * @param column the 1-based column the statement starts at
 * @param statement the statement on one line, cut at 160 characters
 * @param rule the rule
 * @param severity the rule's severity
 * @param lockMode the lock the statement takes that the rule is about
 * @param relation the relation it takes it on, as written
 * @param blocks what that lock blocks, e.g. {@code reads and writes} or {@code writes}
 * @param message what is wrong, in one or two sentences
 * @param safeAlternative the safe way to do it
 */
public record Finding(String file, int line, int column, String statement, Rule rule, Severity severity,
		LockMode lockMode, String relation, String blocks, String message, String safeAlternative) {

	/** The rule's id, e.g. {@code index-without-concurrently}. */
	public String ruleId() {
		return this.rule.id();
	}

	/** {@code file:line:column}. */
	public String location() {
		return this.file + ":" + this.line + ":" + this.column;
	}

	/**
	 * What a lock in {@code mode} keeps others from doing while it is held or queued for: "reads and writes",
	 * "writes", ...
	 */
	public static String blocks(LockMode mode) {
		return switch (mode) {
			case ACCESS_EXCLUSIVE -> "reads and writes";
			case EXCLUSIVE -> "writes and SELECT ... FOR UPDATE/SHARE";
			case SHARE_ROW_EXCLUSIVE, SHARE -> "writes";
			case SHARE_UPDATE_EXCLUSIVE -> "other schema changes, VACUUM and ANALYZE (not reads or writes)";
			case ROW_EXCLUSIVE, ROW_SHARE, ACCESS_SHARE -> "only schema changes and explicit LOCK TABLE";
		};
	}

}
