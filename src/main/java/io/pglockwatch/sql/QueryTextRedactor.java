package io.pglockwatch.sql;

import java.util.Map;
import java.util.Set;

import io.pglockwatch.sql.SqlLexer.Kind;

/**
 * Removes literal values and comment text from SQL reported by PostgreSQL (for example
 * {@code pg_stat_activity.query}) so that the statement can be shown, logged or exported without
 * leaking the data it carries.
 * <p>
 * The redactor is a single pass of {@link SqlLexer}, which follows PostgreSQL's lexical rules
 * ({@code src/backend/parser/scan.l}) in linear time: every string constant (plain, {@code E''}, {@code U&''},
 * {@code B''}, {@code X''}, {@code N''}, dollar-quoted) and every numeric constant becomes
 * {@code ?}, every comment becomes <code>/* ? *&#47;</code> or {@code -- ?}, and everything else
 * (keywords, identifiers, quoted identifiers, operators, casts, positional parameters, whitespace)
 * is kept as it is. A text cut off by {@code track_activity_query_size} in the middle of a literal
 * or comment is still redacted and marked with a trailing {@code …}.
 * <p>
 * It assumes {@code standard_conforming_strings = on} (the default since PostgreSQL 9.1), so a
 * backslash is an escape character only in {@code E''} strings.
 */
public final class QueryTextRedactor {

	/** Stands in for every literal value. */
	static final String PLACEHOLDER = "?";

	/** Appended when the text ends inside a literal, comment or character. */
	static final char TRUNCATION_MARK = '\u2026';

	private static final String LINE_COMMENT = "-- ?";

	private static final String BLOCK_COMMENT = "/* ? */";

	private static final String UNTERMINATED_BLOCK_COMMENT = "/* ?";

	/** First keywords of PostgreSQL statements; anything else yields no command tag. */
	private static final Set<String> STATEMENT_KEYWORDS = Set.of("ABORT", "ALTER", "ANALYZE", "ANALYSE",
			"BEGIN", "CALL", "CHECKPOINT", "CLOSE", "CLUSTER", "COMMENT", "COMMIT", "COPY", "CREATE",
			"DEALLOCATE", "DECLARE", "DELETE", "DISCARD", "DO", "DROP", "END", "EXECUTE", "EXPLAIN", "FETCH",
			"GRANT", "IMPORT", "INSERT", "LISTEN", "LOAD", "LOCK", "MERGE", "MOVE", "NOTIFY", "PREPARE",
			"REASSIGN", "REFRESH", "REINDEX", "RELEASE", "RESET", "REVOKE", "ROLLBACK", "SAVEPOINT", "SECURITY",
			"SELECT", "SET", "SHOW", "START", "TABLE", "TRUNCATE", "UNLISTEN", "UPDATE", "VACUUM", "VALUES",
			"WITH");

	/** Object types after CREATE / ALTER / DROP, longest phrases first so they win. */
	private static final String[] OBJECT_TYPES = { "FOREIGN DATA WRAPPER", "TEXT SEARCH CONFIGURATION",
			"TEXT SEARCH DICTIONARY", "TEXT SEARCH PARSER", "TEXT SEARCH TEMPLATE", "MATERIALIZED VIEW",
			"FOREIGN TABLE", "EVENT TRIGGER", "OPERATOR CLASS", "OPERATOR FAMILY", "ACCESS METHOD", "USER MAPPING",
			"DEFAULT PRIVILEGES", "LARGE OBJECT", "TABLE", "INDEX", "VIEW", "SEQUENCE", "FUNCTION", "PROCEDURE",
			"ROUTINE", "TRIGGER", "SCHEMA", "TYPE", "DOMAIN", "EXTENSION", "SERVER", "ROLE", "USER", "GROUP",
			"DATABASE", "TABLESPACE", "POLICY", "PUBLICATION", "SUBSCRIPTION", "RULE", "AGGREGATE", "OPERATOR",
			"COLLATION", "CONVERSION", "STATISTICS", "LANGUAGE", "CAST", "TRANSFORM", "SYSTEM", "OWNED" };

	/** Second (and third) keywords that PostgreSQL makes part of the command tag. */
	private static final Map<String, String[]> CONTINUATIONS = Map.of("CREATE", OBJECT_TYPES, "ALTER",
			OBJECT_TYPES, "DROP", OBJECT_TYPES, "REFRESH", new String[] { "MATERIALIZED VIEW" }, "START",
			new String[] { "TRANSACTION" }, "PREPARE", new String[] { "TRANSACTION" }, "COMMIT",
			new String[] { "PREPARED" }, "ROLLBACK", new String[] { "PREPARED" }, "IMPORT",
			new String[] { "FOREIGN SCHEMA" }, "DISCARD", new String[] { "ALL", "PLANS", "SEQUENCES", "TEMP",
					"TEMPORARY" });

	/** CREATE options that sit between the verb and the object type but are not part of the tag. */
	private static final Set<String> CREATE_MODIFIERS = Set.of("OR", "REPLACE", "UNIQUE", "TEMP", "TEMPORARY",
			"UNLOGGED", "GLOBAL", "LOCAL", "RECURSIVE", "TRUSTED", "PROCEDURAL", "CONSTRAINT", "DEFAULT");

	/** Spellings whose PostgreSQL command tag differs from the words typed. */
	private static final Map<String, String> TAG_ALIASES = Map.ofEntries(Map.entry("ABORT", "ROLLBACK"),
			Map.entry("END", "COMMIT"), Map.entry("ANALYSE", "ANALYZE"), Map.entry("LOCK", "LOCK TABLE"),
			Map.entry("TRUNCATE", "TRUNCATE TABLE"), Map.entry("TABLE", "SELECT"), Map.entry("VALUES", "SELECT"),
			Map.entry("SECURITY", "SECURITY LABEL"), Map.entry("REASSIGN", "REASSIGN OWNED"),
			Map.entry("DISCARD TEMPORARY", "DISCARD TEMP"), Map.entry("CREATE USER", "CREATE ROLE"),
			Map.entry("CREATE GROUP", "CREATE ROLE"), Map.entry("ALTER USER", "ALTER ROLE"),
			Map.entry("ALTER GROUP", "ALTER ROLE"), Map.entry("DROP USER", "DROP ROLE"),
			Map.entry("DROP GROUP", "DROP ROLE"));

	/** Statements a WITH clause can lead to, as found at parenthesis depth 0. */
	private static final Set<String> WITH_BODIES = Set.of("SELECT", "INSERT", "UPDATE", "DELETE", "MERGE",
			"VALUES", "TABLE");

	private QueryTextRedactor() {
	}

	/**
	 * Replace every literal in {@code sql} with {@code ?} and the text of every comment with
	 * {@code ?}, keeping everything else. A statement that ends inside a literal, comment or
	 * quoted identifier (as PostgreSQL's truncated {@code pg_stat_activity.query} can) gets a
	 * trailing {@code …}.
	 * @param sql the statement text, possibly truncated; may be {@code null}
	 * @return the redacted text, or {@code null} when {@code sql} is {@code null}
	 */
	public static String redact(String sql) {
		if (sql == null) {
			return null;
		}
		int limit = sql.length();
		boolean truncated = false;
		// PostgreSQL cuts at a byte count; a client decoding the cut tail of a multi-byte character
		// sees U+FFFD (or, in a UTF-16 string, a lone high surrogate). Either one means "cut here".
		while (limit > 0 && (sql.charAt(limit - 1) == '\uFFFD' || Character.isHighSurrogate(sql.charAt(limit - 1)))) {
			limit--;
			truncated = true;
		}
		SqlLexer lexer = new SqlLexer(sql, limit);
		StringBuilder out = null;
		// the text between replaced tokens is copied in one piece, not token by token
		int copied = 0;
		for (Kind kind = lexer.next(); kind != Kind.END; kind = lexer.next()) {
			String replacement;
			if (kind == Kind.STRING || kind == Kind.NUMBER) {
				replacement = PLACEHOLDER;
			}
			else if (kind == Kind.LINE_COMMENT) {
				replacement = LINE_COMMENT;
			}
			else if (kind == Kind.BLOCK_COMMENT) {
				replacement = lexer.unterminated() ? UNTERMINATED_BLOCK_COMMENT : BLOCK_COMMENT;
			}
			else {
				truncated |= lexer.unterminated();
				continue;
			}
			if (out == null) {
				out = new StringBuilder(limit + 8);
			}
			out.append(sql, copied, lexer.start()).append(replacement);
			copied = lexer.end();
			truncated |= lexer.unterminated();
		}
		if (out == null && !truncated) {
			// nothing to redact, as in most DDL: no copy at all
			return sql;
		}
		if (out == null) {
			out = new StringBuilder(limit + 8);
		}
		out.append(sql, copied, limit);
		if (truncated) {
			out.append(TRUNCATION_MARK);
		}
		return out.toString();
	}

	/**
	 * The command tag of a statement, approximating the one PostgreSQL reports for it: the leading
	 * keywords, for example {@code "ALTER TABLE"}, {@code "CREATE INDEX"}, {@code "SELECT"},
	 * {@code "LOCK TABLE"} or {@code "BEGIN"}. Leading whitespace, comments and parentheses are
	 * skipped, CREATE options such as {@code UNIQUE} or {@code OR REPLACE} are left out, and a
	 * {@code WITH} query is reported by its main statement. Only known PostgreSQL keywords are
	 * returned, never names or values from the text.
	 * @param query the statement text, possibly truncated; may be {@code null}
	 * @return the upper-case command tag, or {@code null} if the text does not start with a known
	 * statement keyword
	 */
	public static String commandTag(String query) {
		if (query == null) {
			return null;
		}
		SqlLexer lexer = new SqlLexer(query);
		String verb = firstWord(lexer);
		if (verb == null || !STATEMENT_KEYWORDS.contains(verb)) {
			return null;
		}
		if (verb.equals("WITH")) {
			return withBody(lexer);
		}
		String tag = verb;
		String[] continuations = CONTINUATIONS.get(verb);
		if (continuations != null) {
			String rest = followingWords(lexer, verb.equals("CREATE"));
			for (String phrase : continuations) {
				if (rest.equals(phrase) || rest.startsWith(phrase + " ")) {
					tag = verb + " " + phrase;
					break;
				}
			}
		}
		return TAG_ALIASES.getOrDefault(tag, tag);
	}

	private static String firstWord(SqlLexer lexer) {
		for (Kind kind = lexer.next(); kind != Kind.END; kind = lexer.next()) {
			if (kind == Kind.WORD) {
				return lexer.upper();
			}
			// "(SELECT ...) UNION ..." starts with parentheses
			boolean skippable = kind == Kind.SPACE || kind == Kind.LINE_COMMENT
					|| kind == Kind.BLOCK_COMMENT || (kind == Kind.PUNCT && lexer.is('('));
			if (!skippable) {
				return null;
			}
		}
		return null;
	}

	/** The next few bare words, space separated; enough to match the longest continuation. */
	private static String followingWords(SqlLexer lexer, boolean skipCreateModifiers) {
		StringBuilder words = new StringBuilder();
		int count = 0;
		for (Kind kind = lexer.next(); kind != Kind.END && count < 3; kind = lexer.next()) {
			if (kind == Kind.SPACE || kind == Kind.LINE_COMMENT || kind == Kind.BLOCK_COMMENT) {
				continue;
			}
			if (kind != Kind.WORD) {
				break;
			}
			String word = lexer.upper();
			if (skipCreateModifiers && count == 0 && CREATE_MODIFIERS.contains(word)) {
				continue;
			}
			if (count++ > 0) {
				words.append(' ');
			}
			words.append(word);
		}
		return words.toString();
	}

	private static String withBody(SqlLexer lexer) {
		int depth = 0;
		for (Kind kind = lexer.next(); kind != Kind.END; kind = lexer.next()) {
			if (kind == Kind.PUNCT) {
				if (lexer.is('(')) {
					depth++;
				}
				else if (lexer.is(')')) {
					depth = Math.max(0, depth - 1);
				}
			}
			else if (kind == Kind.WORD && depth == 0) {
				String word = lexer.upper();
				if (WITH_BODIES.contains(word)) {
					return TAG_ALIASES.getOrDefault(word, word);
				}
			}
		}
		// cut off before the main statement: WITH is all that is known
		return "WITH";
	}

}
