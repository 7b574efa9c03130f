package io.pglockwatch.sql;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Splits one SQL text into tokens following PostgreSQL's lexical rules (src/backend/parser/scan.l), the way
 * {@link io.pglockwatch.sql.QueryTextRedactor} does, but keeping what a classifier needs: bare words, quoted
 * names, literals, and punctuation. Whitespace and comments (nested block comments included) are dropped.
 * <p>
 * Assumes {@code standard_conforming_strings = on}, the default since PostgreSQL 9.1.
 */
final class SqlTokens {

	/** What a token is. */
	enum Kind {

		/** A keyword or unquoted name. */
		WORD,
		/** A {@code "quoted"} name. */
		QUOTED,
		/** A string constant of any form, dollar-quoted bodies included. */
		STRING,
		/** A numeric constant. */
		NUMBER,
		/** {@code $1}. */
		PARAMETER,
		/** Any other character, one per token. */
		PUNCT

	}

	/**
	 * One token of the text.
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
			return this.kind == Kind.PUNCT && this.text.charAt(0) == c;
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

	private final String s;

	private int pos;

	private SqlTokens(String s) {
		this.s = s;
	}

	static List<Token> tokenize(String sql) {
		return new SqlTokens(sql).all();
	}

	private List<Token> all() {
		List<Token> tokens = new ArrayList<>();
		while (true) {
			skipSpaceAndComments();
			if (this.pos >= this.s.length()) {
				return tokens;
			}
			tokens.add(next());
		}
	}

	private void skipSpaceAndComments() {
		while (this.pos < this.s.length()) {
			char c = this.s.charAt(this.pos);
			if (Character.isWhitespace(c)) {
				this.pos++;
			}
			else if (c == '-' && at(this.pos + 1) == '-') {
				while (this.pos < this.s.length() && this.s.charAt(this.pos) != '\n' && this.s.charAt(this.pos) != '\r') {
					this.pos++;
				}
			}
			else if (c == '/' && at(this.pos + 1) == '*') {
				int depth = 1;
				int i = this.pos + 2;
				while (depth > 0) {
					if (i >= this.s.length()) {
						throw new MalformedSqlException("unterminated /* comment");
					}
					if (this.s.charAt(i) == '/' && at(i + 1) == '*') {
						depth++;
						i += 2;
					}
					else if (this.s.charAt(i) == '*' && at(i + 1) == '/') {
						depth--;
						i += 2;
					}
					else {
						i++;
					}
				}
				this.pos = i;
			}
			else {
				return;
			}
		}
	}

	private Token next() {
		int start = this.pos;
		char c = this.s.charAt(start);
		char next = at(start + 1);
		if (c == '\'') {
			return token(Kind.STRING, start, quotedEnd(start + 1, false));
		}
		if (c == '"') {
			int i = start + 1;
			while (true) {
				if (i >= this.s.length()) {
					throw new MalformedSqlException("unterminated quoted name");
				}
				if (this.s.charAt(i) == '"') {
					if (at(i + 1) != '"') {
						return token(Kind.QUOTED, start, i + 1);
					}
					i++;
				}
				i++;
			}
		}
		if (c == '$') {
			return dollar(start);
		}
		if (isDigit(c) || (c == '.' && isDigit(next))) {
			int i = start;
			while (i < this.s.length() && (isIdentPart(this.s.charAt(i)) || this.s.charAt(i) == '.'
					|| ((this.s.charAt(i) == '+' || this.s.charAt(i) == '-')
							&& (this.s.charAt(i - 1) == 'e' || this.s.charAt(i - 1) == 'E')))) {
				if (this.s.charAt(i) == '.' && at(i + 1) == '.') {
					break;
				}
				i++;
			}
			return token(Kind.NUMBER, start, i);
		}
		if (isIdentStart(c)) {
			// a prefix letter makes a string constant only when the quote follows at once
			if (next == '\'' && "eEbBxXnN".indexOf(c) >= 0) {
				return token(Kind.STRING, start, quotedEnd(start + 2, c == 'e' || c == 'E'));
			}
			if ((c == 'u' || c == 'U') && next == '&' && at(start + 2) == '\'') {
				return token(Kind.STRING, start, quotedEnd(start + 3, false));
			}
			if ((c == 'u' || c == 'U') && next == '&' && at(start + 2) == '"') {
				throw new MalformedSqlException("U&\"...\" names are not supported; write the name plainly");
			}
			int i = start + 1;
			while (i < this.s.length() && isIdentPart(this.s.charAt(i))) {
				i++;
			}
			return token(Kind.WORD, start, i);
		}
		return token(Kind.PUNCT, start, start + 1);
	}

	private int quotedEnd(int from, boolean backslashEscapes) {
		int i = from;
		while (i < this.s.length()) {
			char c = this.s.charAt(i);
			if (c == '\'') {
				if (at(i + 1) == '\'') {
					i += 2;
					continue;
				}
				return i + 1;
			}
			i += (backslashEscapes && c == '\\') ? 2 : 1;
		}
		throw new MalformedSqlException("unterminated string constant");
	}

	private Token dollar(int start) {
		int i = start + 1;
		if (isDigit(at(i))) {
			while (isDigit(at(i))) {
				i++;
			}
			return token(Kind.PARAMETER, start, i);
		}
		if (isIdentStart(at(i))) {
			while (isIdentStart(at(i)) || isDigit(at(i))) {
				i++;
			}
		}
		if (at(i) != '$') {
			return token(Kind.PUNCT, start, start + 1);
		}
		String tag = this.s.substring(start, i + 1);
		int close = this.s.indexOf(tag, i + 1);
		if (close < 0) {
			throw new MalformedSqlException("unterminated dollar-quoted string " + tag);
		}
		return token(Kind.STRING, start, close + tag.length());
	}

	private Token token(Kind kind, int start, int end) {
		this.pos = end;
		return new Token(kind, this.s.substring(start, end), start, end);
	}

	private char at(int i) {
		return (i < this.s.length()) ? this.s.charAt(i) : '\0';
	}

	private static boolean isDigit(char c) {
		return c >= '0' && c <= '9';
	}

	private static boolean isIdentStart(char c) {
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
	}

	private static boolean isIdentPart(char c) {
		return isIdentStart(c) || isDigit(c) || c == '$';
	}

}
