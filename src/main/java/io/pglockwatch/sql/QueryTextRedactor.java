package io.pglockwatch.sql;

import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Removes literal values and comment text from SQL reported by PostgreSQL (for example
 * {@code pg_stat_activity.query}) so that the statement can be shown, logged or exported without
 * leaking the data it carries.
 * <p>
 * The redactor is a single-pass, linear-time tokenizer that follows PostgreSQL's lexical rules
 * ({@code src/backend/parser/scan.l}): every string constant (plain, {@code E''}, {@code U&''},
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
		Lexer lexer = new Lexer(sql, limit);
		StringBuilder out = new StringBuilder(limit + 8);
		for (Token token = lexer.next(); token != Token.END; token = lexer.next()) {
			switch (token) {
				case LITERAL -> out.append(PLACEHOLDER);
				case LINE_COMMENT -> out.append(LINE_COMMENT);
				case BLOCK_COMMENT -> out.append(lexer.unterminated ? UNTERMINATED_BLOCK_COMMENT : BLOCK_COMMENT);
				default -> out.append(sql, lexer.start, lexer.pos);
			}
			truncated |= lexer.unterminated;
		}
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
		Lexer lexer = new Lexer(query, query.length());
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

	private static String firstWord(Lexer lexer) {
		for (Token token = lexer.next(); token != Token.END; token = lexer.next()) {
			if (token == Token.IDENTIFIER) {
				return lexer.word();
			}
			// "(SELECT ...) UNION ..." starts with parentheses
			boolean skippable = token == Token.WHITESPACE || token == Token.LINE_COMMENT
					|| token == Token.BLOCK_COMMENT || (token == Token.OTHER && lexer.is('('));
			if (!skippable) {
				return null;
			}
		}
		return null;
	}

	/** The next few bare words, space separated; enough to match the longest continuation. */
	private static String followingWords(Lexer lexer, boolean skipCreateModifiers) {
		StringBuilder words = new StringBuilder();
		int count = 0;
		for (Token token = lexer.next(); token != Token.END && count < 3; token = lexer.next()) {
			if (token == Token.WHITESPACE || token == Token.LINE_COMMENT || token == Token.BLOCK_COMMENT) {
				continue;
			}
			if (token != Token.IDENTIFIER) {
				break;
			}
			String word = lexer.word();
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

	private static String withBody(Lexer lexer) {
		int depth = 0;
		for (Token token = lexer.next(); token != Token.END; token = lexer.next()) {
			if (token == Token.OTHER) {
				if (lexer.is('(')) {
					depth++;
				}
				else if (lexer.is(')')) {
					depth = Math.max(0, depth - 1);
				}
			}
			else if (token == Token.IDENTIFIER && depth == 0) {
				String word = lexer.word();
				if (WITH_BODIES.contains(word)) {
					return TAG_ALIASES.getOrDefault(word, word);
				}
			}
		}
		// cut off before the main statement: WITH is all that is known
		return "WITH";
	}

	private enum Token {

		/** Spaces, tabs, newlines. */
		WHITESPACE,
		/** {@code -- ...} up to, not including, the line break. */
		LINE_COMMENT,
		/** <code>/* ... *&#47;</code>, possibly nested. */
		BLOCK_COMMENT,
		/** A string, bit string, dollar-quoted string or number. */
		LITERAL,
		/** A bare word: keyword or unquoted name. */
		IDENTIFIER,
		/** A {@code "quoted"} name. */
		QUOTED_IDENTIFIER,
		/** A positional parameter such as {@code $1}. */
		PARAMETER,
		/** Any other single character (operators, punctuation) or {@code ..}. */
		OTHER,
		/** No more input. */
		END

	}

	/** Which escapes a quoted string honours, as in scan.l's xq / xe / xb states. */
	private enum Quoting {

		/** {@code '...'}, {@code N'...'}, {@code U&'...'}: only {@code ''}. */
		STANDARD,
		/** {@code E'...'}: {@code ''} and backslash escapes. */
		EXTENDED,
		/** {@code B'...'}, {@code X'...'}: no escapes at all. */
		BIT

	}

	/**
	 * Splits SQL into tokens, one call to {@link #next()} at a time. Every character is examined a
	 * bounded number of times, so the whole scan is linear in the length of the text.
	 */
	private static final class Lexer {

		private final String s;

		private final int limit;

		/** Start of the current token. */
		int start;

		/** End (exclusive) of the current token and start of the next one. */
		int pos;

		/** Whether the current token runs to the end of the text without being closed. */
		boolean unterminated;

		/** Where a string continues after a line break ('a'\n'b' is one constant), or -1. */
		private int continuationAt = -1;

		private Quoting continuationQuoting;

		Lexer(String s, int limit) {
			this.s = s;
			this.limit = limit;
		}

		Token next() {
			this.unterminated = false;
			this.start = this.pos;
			if (this.pos >= this.limit) {
				return Token.END;
			}
			if (this.pos == this.continuationAt) {
				this.continuationAt = -1;
				return quoted(this.pos + 1, this.continuationQuoting);
			}
			char c = this.s.charAt(this.pos);
			char next = charAt(this.pos + 1);
			if (isSpace(c)) {
				int i = this.pos + 1;
				while (i < this.limit && isSpace(this.s.charAt(i))) {
					i++;
				}
				this.pos = i;
				return Token.WHITESPACE;
			}
			// both comment starters win even in the middle of an operator, as in PostgreSQL
			if (c == '-' && next == '-') {
				this.pos = endOfLine(this.pos + 2);
				return Token.LINE_COMMENT;
			}
			if (c == '/' && next == '*') {
				return blockComment();
			}
			if (c == '\'') {
				return quoted(this.pos + 1, Quoting.STANDARD);
			}
			if (c == '"') {
				return quotedIdentifier();
			}
			if (c == '$') {
				return dollar();
			}
			if (isDigit(c) || (c == '.' && isDigit(next))) {
				return number();
			}
			if (c == '.' && next == '.') {
				// ".." is one token, so "1..2" keeps both dots rather than reading ".2" as a number
				this.pos += 2;
				return Token.OTHER;
			}
			if (isIdentStart(c)) {
				return prefixedStringOrIdentifier(c, next);
			}
			this.pos++;
			return Token.OTHER;
		}

		/** Whether the current token is exactly the character {@code c}. */
		boolean is(char c) {
			return this.pos - this.start == 1 && this.s.charAt(this.start) == c;
		}

		/** The current token upper-cased, for keyword comparison. */
		String word() {
			return this.s.substring(this.start, this.pos).toUpperCase(Locale.ROOT);
		}

		private Token prefixedStringOrIdentifier(char c, char next) {
			// a prefix only counts at the start of a word: "typE'x'" is the name typE and then 'x'
			if (next == '\'') {
				switch (c) {
					case 'e', 'E' -> {
						return quoted(this.pos + 2, Quoting.EXTENDED);
					}
					case 'b', 'B', 'x', 'X' -> {
						return quoted(this.pos + 2, Quoting.BIT);
					}
					case 'n', 'N' -> {
						return quoted(this.pos + 2, Quoting.STANDARD);
					}
					default -> {
					}
				}
			}
			if ((c == 'u' || c == 'U') && next == '&' && charAt(this.pos + 2) == '\'') {
				// backslash escapes in U&'' are decoded after lexing, so lexically it is a plain string
				return quoted(this.pos + 3, Quoting.STANDARD);
			}
			this.pos = identifierEnd(this.pos + 1);
			return Token.IDENTIFIER;
		}

		private Token quoted(int contentStart, Quoting quoting) {
			int i = contentStart;
			while (i < this.limit) {
				char c = this.s.charAt(i);
				if (c == '\'') {
					if (quoting != Quoting.BIT && charAt(i + 1) == '\'') {
						i += 2;
						continue;
					}
					this.pos = i + 1;
					findContinuation(quoting);
					return Token.LITERAL;
				}
				// E'it\'s' is one literal: the escaped quote must not end it
				i += (c == '\\' && quoting == Quoting.EXTENDED) ? 2 : 1;
			}
			return unterminated(Token.LITERAL);
		}

		/**
		 * PostgreSQL joins string constants separated only by whitespace that contains a line break
		 * (and {@code --} comments). The continuation keeps the first part's escaping rules, which
		 * matters for E'' strings, so remember where it starts and how to read it.
		 */
		private void findContinuation(Quoting quoting) {
			int i = this.pos;
			boolean lineBreak = false;
			while (i < this.limit) {
				char c = this.s.charAt(i);
				if (c == '\n' || c == '\r') {
					lineBreak = true;
					i++;
				}
				else if (isSpace(c)) {
					i++;
				}
				else if (c == '-' && charAt(i + 1) == '-') {
					i = endOfLine(i + 2);
				}
				else {
					break;
				}
			}
			if (lineBreak && i < this.limit && this.s.charAt(i) == '\'') {
				this.continuationAt = i;
				this.continuationQuoting = quoting;
			}
		}

		private Token quotedIdentifier() {
			int i = this.pos + 1;
			while (i < this.limit) {
				if (this.s.charAt(i) == '"') {
					if (charAt(i + 1) != '"') {
						this.pos = i + 1;
						return Token.QUOTED_IDENTIFIER;
					}
					i++;
				}
				i++;
			}
			return unterminated(Token.QUOTED_IDENTIFIER);
		}

		private Token dollar() {
			int i = this.pos + 1;
			char c = charAt(i);
			if (isDigit(c)) {
				while (i < this.limit && isDigit(this.s.charAt(i))) {
					i++;
				}
				this.pos = i;
				return Token.PARAMETER;
			}
			int tagStart = i;
			if (isIdentStart(c)) {
				// a dollar-quote tag is like an identifier but cannot contain '$'
				while (i < this.limit && isTagChar(this.s.charAt(i))) {
					i++;
				}
			}
			if (charAt(i) != '$') {
				// "$name" without a closing '$' is a stray '$' followed by a name
				this.pos++;
				return Token.OTHER;
			}
			return dollarQuoted(tagStart, i - tagStart, i + 1);
		}

		private Token dollarQuoted(int tagStart, int tagLength, int bodyStart) {
			int i = bodyStart;
			while (i < this.limit) {
				if (this.s.charAt(i) != '$') {
					i++;
					continue;
				}
				// Compare the tag char by char. A mismatch after m chars means those m chars were tag
				// characters, so no '$' was skipped and no char is compared twice: linear overall.
				int matched = 0;
				while (matched < tagLength && i + 1 + matched < this.limit
						&& this.s.charAt(i + 1 + matched) == this.s.charAt(tagStart + matched)) {
					matched++;
				}
				if (matched == tagLength && charAt(i + 1 + tagLength) == '$') {
					this.pos = i + tagLength + 2;
					return Token.LITERAL;
				}
				i += 1 + matched;
			}
			return unterminated(Token.LITERAL);
		}

		private Token blockComment() {
			int depth = 1;
			int i = this.pos + 2;
			while (i < this.limit) {
				char c = this.s.charAt(i);
				if (c == '/' && charAt(i + 1) == '*') {
					depth++;
					i += 2;
				}
				else if (c == '*' && charAt(i + 1) == '/') {
					i += 2;
					if (--depth == 0) {
						this.pos = i;
						return Token.BLOCK_COMMENT;
					}
				}
				else {
					i++;
				}
			}
			return unterminated(Token.BLOCK_COMMENT);
		}

		/**
		 * Decimal, hex, octal and binary integers, decimals and exponents with PostgreSQL 16's
		 * underscores. Name characters glued to the number ("123abc", "0x") are taken too: PostgreSQL
		 * 15+ rejects them as one malformed literal, and redacting them whole cannot leak digits.
		 */
		private Token number() {
			int i = this.pos;
			char radix = Character.toLowerCase(charAt(i + 1));
			if (this.s.charAt(i) == '0' && (radix == 'x' || radix == 'o' || radix == 'b')
					&& isRadixDigit(charAt(i + 2) == '_' ? charAt(i + 3) : charAt(i + 2), radix)) {
				i = digitsEnd(i + 2, radix);
			}
			else {
				i = digitsEnd(i, 'd');
				if (charAt(i) == '.' && charAt(i + 1) != '.') {
					i = digitsEnd(i + 1, 'd');
				}
				char e = charAt(i);
				if (e == 'e' || e == 'E') {
					int exponent = (charAt(i + 1) == '+' || charAt(i + 1) == '-') ? i + 2 : i + 1;
					if (isDigit(charAt(exponent))) {
						i = digitsEnd(exponent, 'd');
					}
				}
			}
			if (isIdentStart(charAt(i))) {
				i = identifierEnd(i + 1);
			}
			this.pos = i;
			return Token.LITERAL;
		}

		/** End of a run of digits in which single underscores may separate digits. */
		private int digitsEnd(int from, char radix) {
			int i = from;
			while (i < this.limit) {
				char c = this.s.charAt(i);
				if (isRadixDigit(c, radix)) {
					i++;
				}
				else if (c == '_' && isRadixDigit(charAt(i + 1), radix)) {
					i += 2;
				}
				else {
					break;
				}
			}
			return i;
		}

		private int identifierEnd(int from) {
			int i = from;
			while (i < this.limit && isIdentPart(this.s.charAt(i))) {
				i++;
			}
			return i;
		}

		private int endOfLine(int from) {
			int i = from;
			while (i < this.limit && this.s.charAt(i) != '\n' && this.s.charAt(i) != '\r') {
				i++;
			}
			return i;
		}

		private Token unterminated(Token token) {
			this.pos = this.limit;
			this.unterminated = true;
			return token;
		}

		/** The char at {@code i}, or NUL past the end, which matches no rule and so ends any token. */
		private char charAt(int i) {
			return (i < this.limit) ? this.s.charAt(i) : '\0';
		}

		private static boolean isSpace(char c) {
			return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\u000B';
		}

		private static boolean isDigit(char c) {
			return c >= '0' && c <= '9';
		}

		private static boolean isRadixDigit(char c, char radix) {
			return switch (radix) {
				case 'x' -> isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
				case 'o' -> c >= '0' && c <= '7';
				case 'b' -> c == '0' || c == '1';
				default -> isDigit(c);
			};
		}

		/** PostgreSQL treats every non-ASCII character (byte >= 0x80) as a letter. */
		private static boolean isIdentStart(char c) {
			return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
		}

		private static boolean isTagChar(char c) {
			return isIdentStart(c) || isDigit(c);
		}

		private static boolean isIdentPart(char c) {
			return isTagChar(c) || c == '$';
		}

	}

}
