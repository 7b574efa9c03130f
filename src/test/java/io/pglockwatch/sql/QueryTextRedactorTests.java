package io.pglockwatch.sql;

import java.time.Duration;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNoException;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

class QueryTextRedactorTests {

	private static String redact(String sql) {
		return QueryTextRedactor.redact(sql);
	}

	@Nested
	class Basics {

		@Test
		void nullStaysNull() {
			assertThat(redact(null)).isNull();
		}

		@Test
		void emptyAndBlankStayAsTheyAre() {
			assertThat(redact("")).isEmpty();
			assertThat(redact(" \t\r\n")).isEqualTo(" \t\r\n");
		}

		@Test
		void stringAndNumberLiteralsBecomePlaceholders() {
			assertThat(redact("SELECT * FROM users WHERE email = 'a@b.c' AND id = 42"))
				.isEqualTo("SELECT * FROM users WHERE email = ? AND id = ?");
		}

		@Test
		void ddlWithoutLiteralsIsUnchanged() {
			String ddl = "ALTER TABLE users ADD COLUMN email_verified boolean NOT NULL DEFAULT false";
			assertThat(redact(ddl)).isEqualTo(ddl);
		}

		@ParameterizedTest
		@ValueSource(strings = { "LOCK TABLE users IN ACCESS EXCLUSIVE MODE",
				"CREATE INDEX CONCURRENTLY idx_users_email ON users (lower(email)) WHERE deleted_at IS NULL",
				"SELECT a, b FROM t WHERE a IS NULL AND b = TRUE OR c = false",
				"SELECT t.*, s.col_2, t1.x FROM t JOIN s ON s.id = t.id",
				"INSERT INTO t (a, b) VALUES ($1, $2) RETURNING *", "SELECT a::int, b::text[] FROM t",
				"SELECT \"My \"\"Table\"\"\".\"x1\" FROM \"My \"\"Table\"\"\"",
				"UPDATE t SET a = $1 WHERE b = ANY($2::text[])" })
		void statementsWithoutLiteralsAreUnchanged(String sql) {
			assertThat(redact(sql)).isEqualTo(sql);
		}

		@Test
		void whitespaceIsKeptExactly() {
			assertThat(redact("SELECT\ta,\r\n  'x'\f,\u000B 1\n"))
				.isEqualTo("SELECT\ta,\r\n  ?\f,\u000B ?\n");
		}

		@Test
		void castsAndTypedLiteralsKeepTheirType() {
			assertThat(redact("SELECT interval '1 day', '{\"a\": 1}'::jsonb, CAST('7' AS int), date'2024-01-01'"))
				.isEqualTo("SELECT interval ?, ?::jsonb, CAST(? AS int), date?");
		}

		@Test
		void jsonOperatorsSurvive() {
			assertThat(redact("SELECT data->>'email', data #> '{a,b}', data->'x' FROM t"))
				.isEqualTo("SELECT data->>?, data #> ?, data->? FROM t");
		}

	}

	@Nested
	class StringConstants {

		@Test
		void doubledQuoteDoesNotEndTheString() {
			assertThat(redact("SELECT 'it''s', \"col\"\"1\", x1 FROM \"T2\""))
				.isEqualTo("SELECT ?, \"col\"\"1\", x1 FROM \"T2\"");
		}

		@Test
		void onlyQuotesInsideTheString() {
			assertThat(redact("SELECT '''', '''''' FROM t")).isEqualTo("SELECT ?, ? FROM t");
		}

		@Test
		void escapeStringHonoursBackslashes() {
			assertThat(redact("UPDATE t SET pw = E'se\\'cr\\\\et' WHERE id=1"))
				.isEqualTo("UPDATE t SET pw = ? WHERE id=?");
		}

		@Test
		void escapeStringVariants() {
			assertThat(redact("SELECT e'a''b', E'\\'', E'\\\\', E'\\x41\\n\\u00e9' FROM t"))
				.isEqualTo("SELECT ?, ?, ?, ? FROM t");
		}

		@Test
		void backslashIsNotAnEscapeInStandardStrings() {
			// standard_conforming_strings = on: 'C:\' is complete
			assertThat(redact("SELECT 'C:\\', 'x' FROM t")).isEqualTo("SELECT ?, ? FROM t");
		}

		@Test
		void prefixedConstants() {
			assertThat(redact("SELECT B'101', b'0', X'FF', x'1f', U&'d\\0061t', u&'x', N'x', n'x'"))
				.isEqualTo("SELECT ?, ?, ?, ?, ?, ?, ?, ?");
		}

		@Test
		void unicodeEscapeClauseKeepsKeyword() {
			assertThat(redact("SELECT U&'d!0061t!+000061' UESCAPE '!'")).isEqualTo("SELECT ? UESCAPE ?");
		}

		@Test
		void unicodeIdentifierIsAName() {
			assertThat(redact("SELECT U&\"d\\0061t\" FROM t")).isEqualTo("SELECT U&\"d\\0061t\" FROM t");
		}

		@Test
		void prefixOnlyCountsAtTheStartOfAWord() {
			// typE'x' is the name typE followed by a standard string, where \ is not an escape
			assertThat(redact("SELECT typE'x\\', 'y' FROM t")).isEqualTo("SELECT typE?, ? FROM t");
			assertThat(redact("SELECT e 'x', bx'1'")).isEqualTo("SELECT e ?, bx?");
		}

		@Test
		void bitStringsHaveNoDoubledQuoteEscape() {
			assertThat(redact("SELECT B'10''01'")).isEqualTo("SELECT ??");
		}

		@Test
		void commentAndQuoteMarkersInsideStringsAreContent() {
			assertThat(redact("SELECT '-- no', '/* no', '$$', '\"', 'a*/b' FROM t"))
				.isEqualTo("SELECT ?, ?, ?, ?, ? FROM t");
		}

		@Test
		void continuationAcrossLineBreakIsRedacted() {
			assertThat(redact("SELECT 'a'\n'b' FROM t")).isEqualTo("SELECT ?\n? FROM t");
		}

		@Test
		void continuationOfEscapeStringKeepsBackslashEscapes() {
			// the second part belongs to the E'' constant, so \' in it does not end it
			assertThat(redact("SELECT E'a'\n  'sec\\'ret' FROM t")).isEqualTo("SELECT ?\n  ? FROM t");
			assertThat(redact("SELECT E'a' -- note\n'sec\\'ret', 1")).isEqualTo("SELECT ? -- ?\n?, ?");
			assertThat(redact("SELECT E'a'\r\n\r\n'b\\'c'\n'd\\'e'")).isEqualTo("SELECT ?\r\n\r\n?\n?");
		}

		@Test
		void noContinuationWithoutLineBreakOrAcrossBlockComment() {
			assertThat(redact("SELECT E'a' 'b\\', 1")).isEqualTo("SELECT ? ?, ?");
			assertThat(redact("SELECT E'a'\n/* c */ 'b\\', 1")).isEqualTo("SELECT ?\n/* ? */ ?, ?");
		}

	}

	@Nested
	class DollarQuoting {

		@Test
		void taggedUntaggedAndParameters() {
			assertThat(redact("SELECT $fn$ secret 'x' $fn$, $$a$$, $1, a$b FROM t1"))
				.isEqualTo("SELECT ?, ?, $1, a$b FROM t1");
		}

		@Test
		void otherTagsInsideAreContent() {
			assertThat(redact("SELECT $a$ x $b$ inner $b$ $$ $ab$ $A$ y $a$, 2")).isEqualTo("SELECT ?, ?");
		}

		@Test
		void functionBody() {
			assertThat(redact("CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 42; END $body$ LANGUAGE plpgsql"))
				.isEqualTo("CREATE FUNCTION f() RETURNS int AS ? LANGUAGE plpgsql");
			assertThat(redact("DO $$BEGIN PERFORM 'x'; END$$;")).isEqualTo("DO ?;");
		}

		@Test
		void emptyBodies() {
			assertThat(redact("SELECT $$$$, $x$$x$")).isEqualTo("SELECT ?, ?");
		}

		@Test
		void dollarInsideIdentifierIsPartOfIt() {
			assertThat(redact("SELECT x$tag$ FROM t")).isEqualTo("SELECT x$tag$ FROM t");
			assertThat(redact("SELECT x$tag$, $tag$ body $tag$")).isEqualTo("SELECT x$tag$, ?");
		}

		@Test
		void tagCannotStartWithDigit() {
			assertThat(redact("SELECT $1$ FROM t")).isEqualTo("SELECT $1$ FROM t");
			assertThat(redact("SELECT $12::int, $3")).isEqualTo("SELECT $12::int, $3");
		}

		@Test
		void strayDollarIsKept() {
			assertThat(redact("SELECT $ FROM t")).isEqualTo("SELECT $ FROM t");
			assertThat(redact("SELECT $abc FROM t")).isEqualTo("SELECT $abc FROM t");
		}

		@Test
		void nonAsciiTag() {
			assertThat(redact("SELECT $é$ geheim $é$, $🎉$ x $🎉$")).isEqualTo("SELECT ?, ?");
		}

		@Test
		void tagMatchIsCaseSensitive() {
			assertThat(redact("SELECT $Q$ a $q$ b $Q$")).isEqualTo("SELECT ?");
		}

	}

	@Nested
	class Numbers {

		@Test
		void allNumericForms() {
			assertThat(redact("SELECT 1_000, 0x1F, 1.5e-3, .5, 5. FROM t")).isEqualTo("SELECT ?, ?, ?, ?, ? FROM t");
			assertThat(redact("SELECT 42, 3.14, 1e10, 1E+10, 1.e5, 0o17, 0b101, 0X_ff, 1_000_000.000_1"))
				.isEqualTo("SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?");
		}

		@Test
		void digitsInNamesStay() {
			assertThat(redact("SELECT t1.col_2, \"x1\", a1b2 FROM t1")).isEqualTo("SELECT t1.col_2, \"x1\", a1b2 FROM t1");
		}

		@Test
		void minusSignStays() {
			assertThat(redact("SELECT -5, a-1, a - -2.5")).isEqualTo("SELECT -?, a-?, a - -?");
		}

		@Test
		void rangesAndSubscripts() {
			assertThat(redact("SELECT arr[1:2], 1..10")).isEqualTo("SELECT arr[?:?], ?..?");
		}

		@Test
		void typeModifiersAreNumbersToo() {
			// a lexer cannot tell varchar(255) the type from varchar(12345) the cast of a value
			assertThat(redact("ALTER TABLE t ALTER COLUMN c TYPE numeric(10, 2)"))
				.isEqualTo("ALTER TABLE t ALTER COLUMN c TYPE numeric(?, ?)");
		}

		@Test
		void trailingJunkIsPartOfTheLiteral() {
			assertThat(redact("SELECT 123abc, 0x, 0xZZ, 1e, 1_, 12e+ FROM t")).isEqualTo("SELECT ?, ?, ?, ?, ?, ?+ FROM t");
		}

	}

	@Nested
	class Comments {

		@Test
		void nestedBlockAndLineComments() {
			assertThat(redact("/* password=hunter2 /* nested */ still */ SELECT 1 -- token abc"))
				.isEqualTo("/* ? */ SELECT ? -- ?");
		}

		@Test
		void lineCommentEndsAtLineBreak() {
			assertThat(redact("SELECT 1 -- it's 'x'\r\n, 'y' -- z\nFROM t")).isEqualTo("SELECT ? -- ?\r\n, ? -- ?\nFROM t");
		}

		@Test
		void emptyComments() {
			assertThat(redact("SELECT /**/ 1 --")).isEqualTo("SELECT /* ? */ ? -- ?");
		}

		@Test
		void slashStarSlashDoesNotClose() {
			assertThat(redact("/*/ still comment */ SELECT 1")).isEqualTo("/* ? */ SELECT ?");
			assertThat(redact("/* a **/ SELECT 1")).isEqualTo("/* ? */ SELECT ?");
		}

		@Test
		void commentsStartInsideOperators() {
			assertThat(redact("SELECT a+--c\n2, a*/*c*/b, a--1")).isEqualTo("SELECT a+-- ?\n?, a*/* ? */b, a-- ?");
		}

		@Test
		void quotesInsideCommentsAreContent() {
			assertThat(redact("/* it's $$ \" */ SELECT 'x' /* ' */")).isEqualTo("/* ? */ SELECT ? /* ? */");
		}

		@Test
		void commentMarkersInsideQuotedIdentifierAreName() {
			assertThat(redact("SELECT \"a--b\", \"/*\", \"it's\", 'x' FROM t"))
				.isEqualTo("SELECT \"a--b\", \"/*\", \"it's\", ? FROM t");
		}

	}

	@Nested
	class Truncation {

		@ParameterizedTest
		@CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
				INSERT INTO t VALUES ('very secret val | INSERT INTO t VALUES (?…
				SELECT $x$ body cut                    | SELECT ?…
				SELECT 1 /* cut comment                | SELECT ? /* ?…
				/* a /* b */ c                         | /* ?…
				SELECT E'abc\\                         | SELECT ?…
				SELECT E'abc\\'                        | SELECT ?…
				SELECT 'it''                           | SELECT ?…
				SELECT $$ a $                          | SELECT ?…
				SELECT $fn$ a $fn                      | SELECT ?…
				SELECT "My Tab                         | SELECT "My Tab…
				SELECT B'01                            | SELECT ?…
				SELECT U&'x                            | SELECT ?…
				""")
		void unterminatedConstructsAreRedactedAndMarked(String sql, String expected) {
			assertThat(redact(sql)).isEqualTo(expected);
		}

		@Test
		void cutMultiByteCharacterIsDropped() {
			assertThat(redact("SELECT 'geheim\uFFFD")).isEqualTo("SELECT ?…");
			assertThat(redact("SELECT caf\uFFFD")).isEqualTo("SELECT caf…");
			assertThat(redact("SELECT 'x\uD83D")).isEqualTo("SELECT ?…");
			assertThat(redact("SELECT x\uD83D")).isEqualTo("SELECT x…");
		}

		@Test
		void completeStatementsAreNotMarked() {
			assertThat(redact("SELECT 'a' -- trailing")).isEqualTo("SELECT ? -- ?");
			assertThat(redact("SELECT 'a'")).isEqualTo("SELECT ?");
		}

		@Test
		void everyPrefixOfANastyStatementIsSafe() {
			String sql = "/* pw SECRET 9 */ SELECT E'SECRET\\'9', 'SECRET''9', $t$SECRET 9$t$, 9.9e9,"
					+ " B'1001', X'9F', U&'SECRET9', N'SECRET9', \"name\" -- SECRET 9\n, E'x'\n'SECRET\\'9'"
					+ ", 'Grüße 🎉 SECRET9'";
			for (int cut = 0; cut <= sql.length(); cut++) {
				String prefix = sql.substring(0, cut);
				String redacted = redact(prefix);
				assertThat(redacted).as(prefix).doesNotContain("SECRET").doesNotContain("SECR").doesNotContainPattern("[0-9]");
			}
		}

	}

	@Nested
	class MultiByteText {

		@Test
		void nonAsciiInsideAndOutsideLiterals() {
			assertThat(redact("SELECT 'Grüße 🎉', grüße_🎉, \"Ärger 🎉\" FROM tëst WHERE x = 'ö' AND ö'x' = 1"))
				.isEqualTo("SELECT ?, grüße_🎉, \"Ärger 🎉\" FROM tëst WHERE x = ? AND ö? = ?");
		}

		@Test
		void nonAsciiInCommentsAndDollarQuotes() {
			assertThat(redact("/* 🎉 geheimnis */ SELECT $$ 😀 $$ -- ü")).isEqualTo("/* ? */ SELECT ? -- ?");
		}

	}

	@Nested
	class CommandTags {

		@ParameterizedTest
		@CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
				ALTER TABLE users ADD COLUMN x int                                    | ALTER TABLE
				alter table if exists only users drop column x                        | ALTER TABLE
				`  /* hi */ -- x\\n create unique index concurrently i on t (a)`       | CREATE INDEX
				CREATE INDEX i ON t (a)                                               | CREATE INDEX
				CREATE OR REPLACE FUNCTION f() RETURNS int AS $$ SELECT 1 $$          | CREATE FUNCTION
				CREATE GLOBAL TEMPORARY TABLE t (a int)                               | CREATE TABLE
				CREATE MATERIALIZED VIEW mv AS SELECT 1                               | CREATE MATERIALIZED VIEW
				CREATE FOREIGN DATA WRAPPER w                                         | CREATE FOREIGN DATA WRAPPER
				ALTER TABLESPACE ts RENAME TO x                                       | ALTER TABLESPACE
				ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO r                  | ALTER DEFAULT PRIVILEGES
				DROP USER bob                                                         | DROP ROLE
				DROP USER MAPPING FOR bob SERVER s                                    | DROP USER MAPPING
				DROP INDEX CONCURRENTLY i                                             | DROP INDEX
				CREATE secret_name                                                    | CREATE
				SELECT 1                                                              | SELECT
				insert into t values (1)                                              | INSERT
				UPDATE t SET a = 1                                                    | UPDATE
				DELETE FROM t                                                         | DELETE
				LOCK users                                                            | LOCK TABLE
				LOCK TABLE users IN ACCESS EXCLUSIVE MODE                             | LOCK TABLE
				TRUNCATE t                                                            | TRUNCATE TABLE
				VACUUM (ANALYZE) t                                                    | VACUUM
				BEGIN;                                                                | BEGIN
				START TRANSACTION ISOLATION LEVEL SERIALIZABLE                        | START TRANSACTION
				ABORT                                                                 | ROLLBACK
				END                                                                   | COMMIT
				COMMIT PREPARED 'x'                                                   | COMMIT PREPARED
				REFRESH MATERIALIZED VIEW CONCURRENTLY mv                             | REFRESH MATERIALIZED VIEW
				DISCARD TEMPORARY                                                     | DISCARD TEMP
				TABLE t                                                               | SELECT
				(SELECT 1) UNION (SELECT 2)                                           | SELECT
				WITH x AS (SELECT 1) DELETE FROM t                                    | DELETE
				WITH RECURSIVE r(n) AS (VALUES (1) UNION ALL SELECT n + 1 FROM r) SELECT * FROM r | SELECT
				WITH x AS MATERIALIZED (UPDATE t SET a = ')' RETURNING *) INSERT INTO u SELECT * FROM x | INSERT
				WITH x AS (SELECT                                                     | WITH
				""")
		void tagsFollowPostgres(String sql, String tag) {
			assertThat(QueryTextRedactor.commandTag(sql.replace("\\n", "\n"))).isEqualTo(tag);
		}

		@ParameterizedTest
		@ValueSource(strings = { "", "   ", "-- only a comment", "/* unterminated", "'literal'", "42",
				"hunter2 SELECT 1", "\"SELECT\" 1", "$$x$$", ";" })
		void noTagWithoutAKnownLeadingKeyword(String sql) {
			assertThat(QueryTextRedactor.commandTag(sql)).isNull();
		}

		@Test
		void nullHasNoTag() {
			assertThat(QueryTextRedactor.commandTag(null)).isNull();
		}

	}

	@Nested
	class Properties {

		private static final char[] ALPHABET = "'\"$0123456789eEbBxXnNuU&abc_-/*\n\r \\.;:()\u00e9\uFFFD\uD83D\uDE00"
			.toCharArray();

		@Test
		void randomInputNeverThrowsAndStaysBounded() {
			Random random = new Random(42);
			for (int n = 0; n < 10_000; n++) {
				String sql = randomString(random, random.nextInt(80));
				assertThatNoException().as(escape(sql)).isThrownBy(() -> redact(sql));
				assertThat(redact(sql).length()).as(escape(sql)).isLessThanOrEqualTo(sql.length() * 2 + 10);
				assertThatNoException().as(escape(sql)).isThrownBy(() -> QueryTextRedactor.commandTag(sql));
			}
		}

		@Test
		void randomQueriesNeverLeakLiteralContent() {
			Random random = new Random(7);
			for (int n = 0; n < 5_000; n++) {
				String sql = randomQuery(random);
				String redacted = redact(sql);
				assertThat(redacted).as(sql).doesNotContain("SECR").doesNotContainPattern("[0-9]");
				String prefix = sql.substring(0, random.nextInt(sql.length() + 1));
				assertThat(redact(prefix)).as(prefix).doesNotContain("SECR").doesNotContainPattern("[0-9]");
			}
		}

		@Test
		void largeAdversarialInputsRunInLinearTime() {
			int size = 1_000_000;
			List<String> inputs = List.of("/*".repeat(size / 2), "'".repeat(size - 1), "''".repeat(size / 2),
					"E'" + "\\'".repeat(size / 2), "$" + "a".repeat(1000) + "$" + ("$" + "a".repeat(999) + "b").repeat(size / 1000),
					"$a$" + "$".repeat(size), "1".repeat(size), "x".repeat(size), "'a'\n".repeat(size / 4),
					"-- x\n".repeat(size / 5), "\"".repeat(size - 1));
			assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
				for (String input : inputs) {
					assertThat(redact(input).length()).isLessThanOrEqualTo(input.length() * 2 + 10);
					QueryTextRedactor.commandTag("WITH " + input);
				}
			});
		}

		private static String randomString(Random random, int length) {
			StringBuilder sb = new StringBuilder(length);
			for (int i = 0; i < length; i++) {
				sb.append(ALPHABET[random.nextInt(ALPHABET.length)]);
			}
			return sb.toString();
		}

		/**
		 * Names, punctuation and literals joined so that no two tokens touch; names and tags have
		 * no digits, so any digit or "SECR" in the output came from a literal or comment.
		 */
		private static String randomQuery(Random random) {
			String[] names = { "users", "email", "a$b", "\"Quoted \"\"Name\"\"\"", "grüße", "\"it's\"", "e", "b",
					"x", "n", "U", "interval", "NULL" };
			String[] separators = { " ", ", ", " = ", " + ", " (", ") ", " || ", " AND ", "\n AND ", "::text ",
					" - " };
			StringBuilder sql = new StringBuilder("SELECT ");
			int parts = 1 + random.nextInt(12);
			for (int i = 0; i < parts; i++) {
				if (i > 0) {
					sql.append(separators[random.nextInt(separators.length)]);
				}
				if (random.nextInt(3) == 0) {
					sql.append(names[random.nextInt(names.length)]);
				}
				else {
					sql.append(randomLiteral(random));
				}
			}
			return sql.toString();
		}

		private static String randomLiteral(Random random) {
			String secret = "SECRETx" + random.nextInt(1000);
			switch (random.nextInt(14)) {
				case 0:
					return "'" + standardContent(random, secret) + "'";
				case 1:
					return "E'" + escapedContent(random, secret) + "'";
				case 2:
					return "E'a'\n'" + escapedContent(random, secret) + "'";
				case 3: {
					String tag = List.of("fn", "body", "é", "_q").get(random.nextInt(4));
					return "$" + tag + "$" + dollarContent(random, secret, true) + "$" + tag + "$";
				}
				case 4:
					return "$$" + dollarContent(random, secret, false) + "$$";
				case 5:
					return "B'10" + random.nextInt(2) + "'";
				case 6:
					return "X'" + Integer.toHexString(random.nextInt()) + "'";
				case 7:
					return "U&'" + standardContent(random, secret) + "' UESCAPE '!'";
				case 8:
					return "N'" + standardContent(random, secret) + "'";
				case 9:
					return "/* " + secret + " /* " + secret + " */ 'x */";
				case 10:
					return "-- " + secret + " ' \" $$ /*\n";
				case 11:
					return List.of("42", "3.14", ".5", "5.", "1e10", "1.5E-3", "0x1F", "0o17", "0b101", "1_000_000", "-7")
						.get(random.nextInt(11));
				case 12:
					return String.valueOf(random.nextLong());
				default:
					return "'" + standardContent(random, secret) + "'\n'" + standardContent(random, secret) + "'";
			}
		}

		private static String standardContent(Random random, String secret) {
			String[] pieces = { secret, "''", "\"", "$$", "--", "/*", "*/", "\\ ", "\n", "🎉", "ü", " " };
			return join(random, pieces);
		}

		private static String escapedContent(Random random, String secret) {
			String[] pieces = { secret, "''", "\\'", "\\\\", "\\n", "\"", "$$", "--", "/*", "\n", "🎉" };
			return join(random, pieces);
		}

		private static String dollarContent(Random random, String secret, boolean tagged) {
			String[] pieces = tagged ? new String[] { secret, "'", "''", "\"", "$$", "$zz$", " $1 ", "--", "/*", "\\" }
					: new String[] { secret, "'", "\"", " $zz ", "--", "/*", "\\" };
			return join(random, pieces);
		}

		private static String join(Random random, String[] pieces) {
			StringBuilder sb = new StringBuilder();
			int count = random.nextInt(6);
			for (int i = 0; i < count; i++) {
				sb.append(pieces[random.nextInt(pieces.length)]);
			}
			return sb.append(' ').append(pieces[0]).toString();
		}

		private static String escape(String s) {
			return s.replace("\n", "\\n").replace("\r", "\\r");
		}

	}

}
