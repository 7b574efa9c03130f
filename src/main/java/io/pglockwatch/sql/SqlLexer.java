package io.pglockwatch.sql;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Splits SQL text into tokens following PostgreSQL's lexical rules ({@code src/backend/parser/scan.l}); the one
 * lexer behind both {@link QueryTextRedactor} and {@link StatementLockModes}.
 * <p>
 * Used as a cursor, {@link #next()} reports every token, whitespace and comments included, by kind and source
 * positions without allocating, because the redactor runs it over every session's query text on every poll.
 * Every character is examined a bounded number of times, so a scan is linear in the length of the text. A token
 * that runs to the end of the text unclosed (a literal, comment or quoted name cut off by
 * {@code track_activity_query_size}) is reported as {@link #unterminated()}. {@link #tokens(String)} gives the
 * significant tokens as a list, for the classifier.
 * <p>
 * Assumes {@code standard_conforming_strings = on} (the default since PostgreSQL 9.1), so a backslash is an escape
 * character only in {@code E''} strings.
 */
final class SqlLexer {

	/** What a token is. */
	enum Kind {

		/** Spaces, tabs, line breaks. */
		SPACE,
		/** {@code -- ...} up to, not including, the line break. */
		LINE_COMMENT,
		/** <code>/* ... *&#47;</code>, possibly nested. */
		BLOCK_COMMENT,
		/** A string constant of any form: {@code '...'}, {@code E''}, {@code U&''}, {@code B''}, {@code X''},
		 * {@code N''}, dollar-quoted. */
		STRING,
		/** A numeric constant, name characters glued to it included. */
		NUMBER,
		/** A keyword or unquoted name. */
		WORD,
		/** A {@code "quoted"} name. */
		QUOTED,
		/** A positional parameter such as {@code $1}. */
		PARAMETER,
		/** Any other single character (operators, punctuation), or {@code ..}. */
		PUNCT,
		/** No more input. */
		END

	}

	/**
	 * One significant token, as {@link #tokens(String)} lists it.
	 * @param start offset of its first character
	 * @param end offset after its last character
	 */
	record Token(Kind kind, String text, int start, int end) {

		/** Whether this is the bare word {@code keyword} (case-insensitive); a quoted name never is. */
		boolean is(String keyword) {
			return this.kind == Kind.WORD && this.text.equalsIgnoreCase(keyword);
		}

		/** Whether this is the punctuation character {@code c}. */
		boolean is(char c) {
			return this.kind == Kind.PUNCT && this.text.length() == 1 && this.text.charAt(0) == c;
		}

		/** The word upper-cased, for messages and keyword lookups. */
		String upper() {
			return this.text.toUpperCase(Locale.ROOT);
		}

		/**
		 * The identifier this token names: a bare word folded to lower case (ASCII letters only, as PostgreSQL
		 * does in a UTF-8 database), a quoted name as written with {@code ""} unescaped.
		 */
		String identifier() {
			if (this.kind == Kind.QUOTED) {
				return this.text.substring(1, this.text.length() - 1).replace("\"\"", "\"");
			}
			StringBuilder folded = new StringBuilder(this.text.length());
			for (int i = 0; i < this.text.length(); i++) {
				char c = this.text.charAt(i);
				folded.append((c >= 'A' && c <= 'Z') ? (char) (c + ('a' - 'A')) : c);
			}
			return folded.toString();
		}

		boolean isName() {
			return this.kind == Kind.WORD || this.kind == Kind.QUOTED;
		}

	}

	/** The text cannot be split into tokens (an unterminated literal, comment or quoted name). */
	static final class MalformedSqlException extends IllegalArgumentException {

		MalformedSqlException(String message) {
			super(message);
		}

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

	private final String s;

	private final int limit;

	/** Start of the current token. */
	private int start;

	/** End (exclusive) of the current token and start of the next one. */
	private int pos;

	private boolean unterminated;

	/** Where a string continues after a line break ('a'\n'b' is one constant), or -1. */
	private int continuationAt = -1;

	private Quoting continuationQuoting;

	/** A lexer over {@code s} up to, not including, offset {@code limit}. */
	SqlLexer(String s, int limit) {
		this.s = s;
		this.limit = limit;
	}

	SqlLexer(String s) {
		this(s, s.length());
	}

	/**
	 * The significant tokens of {@code sql}: whitespace and comments are dropped.
	 * @throws MalformedSqlException when a literal, comment or quoted name is not closed
	 */
	static List<Token> tokens(String sql) {
		SqlLexer lexer = new SqlLexer(sql);
		List<Token> tokens = new ArrayList<>();
		for (Kind kind = lexer.next(); kind != Kind.END; kind = lexer.next()) {
			if (lexer.unterminated) {
				throw new MalformedSqlException(lexer.unterminatedMessage(kind));
			}
			if (kind == Kind.WORD && lexer.pos - lexer.start == 1 && (sql.charAt(lexer.start) == 'u'
					|| sql.charAt(lexer.start) == 'U') && sql.startsWith("&\"", lexer.pos)) {
				throw new MalformedSqlException("U&\"...\" names are not supported; write the name plainly");
			}
			if (kind != Kind.SPACE && kind != Kind.LINE_COMMENT && kind != Kind.BLOCK_COMMENT) {
				tokens.add(new Token(kind, sql.substring(lexer.start, lexer.pos), lexer.start, lexer.pos));
			}
		}
		return tokens;
	}

	/** Moves to the next token and says what it is; {@link Kind#END} once the text is used up. */
	Kind next() {
		this.unterminated = false;
		this.start = this.pos;
		if (this.pos >= this.limit) {
			return Kind.END;
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
			return Kind.SPACE;
		}
		// both comment starters win even in the middle of an operator, as in PostgreSQL
		if (c == '-' && next == '-') {
			this.pos = endOfLine(this.pos + 2);
			return Kind.LINE_COMMENT;
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
			return Kind.PUNCT;
		}
		if (isIdentStart(c)) {
			return prefixedStringOrWord(c, next);
		}
		this.pos++;
		return Kind.PUNCT;
	}

	/** Offset of the current token's first character. */
	int start() {
		return this.start;
	}

	/** Offset after the current token's last character. */
	int end() {
		return this.pos;
	}

	/** Whether the current token runs to the end of the text without being closed. */
	boolean unterminated() {
		return this.unterminated;
	}

	/** Whether the current token is exactly the character {@code c}. */
	boolean is(char c) {
		return this.pos - this.start == 1 && this.s.charAt(this.start) == c;
	}

	/** The current token upper-cased, for keyword comparison. */
	String upper() {
		return this.s.substring(this.start, this.pos).toUpperCase(Locale.ROOT);
	}

	private String unterminatedMessage(Kind kind) {
		if (kind == Kind.BLOCK_COMMENT) {
			return "unterminated /* comment";
		}
		if (kind == Kind.QUOTED) {
			return "unterminated quoted name";
		}
		if (this.s.charAt(this.start) == '$') {
			return "unterminated dollar-quoted string " + this.s.substring(this.start, this.s.indexOf('$', this.start + 1) + 1);
		}
		return "unterminated string constant";
	}

	private Kind prefixedStringOrWord(char c, char next) {
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
		return Kind.WORD;
	}

	private Kind quoted(int contentStart, Quoting quoting) {
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
				return Kind.STRING;
			}
			// E'it\'s' is one literal: the escaped quote must not end it
			i += (c == '\\' && quoting == Quoting.EXTENDED) ? 2 : 1;
		}
		return unterminated(Kind.STRING);
	}

	/**
	 * PostgreSQL joins string constants separated only by whitespace that contains a line break (and {@code --}
	 * comments). The continuation keeps the first part's escaping rules, which matters for E'' strings, so remember
	 * where it starts and how to read it.
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

	private Kind quotedIdentifier() {
		int i = this.pos + 1;
		while (i < this.limit) {
			if (this.s.charAt(i) == '"') {
				if (charAt(i + 1) != '"') {
					this.pos = i + 1;
					return Kind.QUOTED;
				}
				i++;
			}
			i++;
		}
		return unterminated(Kind.QUOTED);
	}

	private Kind dollar() {
		int i = this.pos + 1;
		char c = charAt(i);
		if (isDigit(c)) {
			while (i < this.limit && isDigit(this.s.charAt(i))) {
				i++;
			}
			this.pos = i;
			return Kind.PARAMETER;
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
			return Kind.PUNCT;
		}
		return dollarQuoted(tagStart, i - tagStart, i + 1);
	}

	private Kind dollarQuoted(int tagStart, int tagLength, int bodyStart) {
		int i = bodyStart;
		while (i < this.limit) {
			if (this.s.charAt(i) != '$') {
				i++;
				continue;
			}
			// Compare the tag char by char. A mismatch after m chars means those m chars were tag characters,
			// so no '$' was skipped and no char is compared twice: linear overall.
			int matched = 0;
			while (matched < tagLength && i + 1 + matched < this.limit
					&& this.s.charAt(i + 1 + matched) == this.s.charAt(tagStart + matched)) {
				matched++;
			}
			if (matched == tagLength && charAt(i + 1 + tagLength) == '$') {
				this.pos = i + tagLength + 2;
				return Kind.STRING;
			}
			i += 1 + matched;
		}
		return unterminated(Kind.STRING);
	}

	private Kind blockComment() {
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
					return Kind.BLOCK_COMMENT;
				}
			}
			else {
				i++;
			}
		}
		return unterminated(Kind.BLOCK_COMMENT);
	}

	/**
	 * Decimal, hex, octal and binary integers, decimals and exponents with PostgreSQL 16's underscores. Name
	 * characters glued to the number ("123abc", "0x") are taken too: PostgreSQL 15+ rejects them as one malformed
	 * literal, and redacting them whole cannot leak digits.
	 */
	private Kind number() {
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
		return Kind.NUMBER;
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

	private Kind unterminated(Kind kind) {
		this.pos = this.limit;
		this.unterminated = true;
		return kind;
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
