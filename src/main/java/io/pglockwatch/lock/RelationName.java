package io.pglockwatch.lock;

import java.util.Set;

/**
 * A relation's name as {@code schema.table}, each part quoted as PostgreSQL's {@code quote_ident} quotes it
 * ({@code public.users}, {@code public."my table"}, {@code public."Weird.Name"}, {@code public."a""b"}), or, when it
 * cannot be named, {@code database:oid} with the reason (e.g. the monitor may not connect to that database).
 */
public record RelationName(String name, String unresolvedReason) {

	/**
	 * PostgreSQL's keywords that are not unreserved (reserved, type_func_name and col_name in kwlist.h, PostgreSQL
	 * 18): {@code quote_ident} quotes these even when they are plain lower-case words.
	 */
	private static final Set<String> QUOTED_KEYWORDS = Set.of("all", "analyse", "analyze", "and", "any", "array", "as",
			"asc", "asymmetric", "authorization", "between", "bigint", "binary", "bit", "boolean", "both", "case",
			"cast", "char", "character", "check", "coalesce", "collate", "collation", "column", "concurrently",
			"constraint", "create", "cross", "current_catalog", "current_date", "current_role", "current_schema",
			"current_time", "current_timestamp", "current_user", "dec", "decimal", "default", "deferrable", "desc",
			"distinct", "do", "else", "end", "except", "exists", "extract", "false", "fetch", "float", "for", "foreign",
			"freeze", "from", "full", "grant", "greatest", "group", "grouping", "having", "ilike", "in", "initially",
			"inner", "inout", "int", "integer", "intersect", "interval", "into", "is", "isnull", "join", "json",
			"json_array", "json_arrayagg", "json_exists", "json_object", "json_objectagg", "json_query", "json_scalar",
			"json_serialize", "json_table", "json_value", "lateral", "leading", "least", "left", "like", "limit",
			"localtime", "localtimestamp", "merge_action", "national", "natural", "nchar", "none", "normalize", "not",
			"notnull", "null", "nullif", "numeric", "offset", "on", "only", "or", "order", "out", "outer", "overlaps",
			"overlay", "placing", "position", "precision", "primary", "real", "references", "returning", "right", "row",
			"select", "session_user", "setof", "similar", "smallint", "some", "substring", "symmetric", "system_user",
			"table", "tablesample", "then", "time", "timestamp", "to", "trailing", "treat", "trim", "true", "union",
			"unique", "user", "using", "values", "varchar", "variadic", "verbose", "when", "where", "window", "with",
			"xmlattributes", "xmlconcat", "xmlelement", "xmlexists", "xmlforest", "xmlnamespaces", "xmlparse", "xmlpi",
			"xmlroot", "xmlserialize", "xmltable");

	public static RelationName of(String schema, String table) {
		return new RelationName(quoted(schema) + "." + quoted(table), null);
	}

	public static RelationName unresolved(String database, long oid, String reason) {
		return new RelationName(database + ":" + oid, reason);
	}

	/**
	 * An identifier as PostgreSQL's {@code quote_ident} writes it: as is when it is a lower-case word (a-z, digits,
	 * underscores, not starting with a digit) that is no reserved keyword, else in double quotes with each double
	 * quote doubled. A name shown so reads back as the same relation when pasted into SQL, and a name with a space,
	 * dot or quote in it cannot pass for another relation's.
	 */
	public static String quoted(String identifier) {
		if (isPlain(identifier)) {
			return identifier;
		}
		return "\"" + identifier.replace("\"", "\"\"") + "\"";
	}

	private static boolean isPlain(String identifier) {
		if (identifier.isEmpty()) {
			return false;
		}
		char first = identifier.charAt(0);
		if (!((first >= 'a' && first <= 'z') || first == '_')) {
			return false;
		}
		for (int i = 1; i < identifier.length(); i++) {
			char c = identifier.charAt(i);
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
				return false;
			}
		}
		return !QUOTED_KEYWORDS.contains(identifier);
	}

	public boolean resolved() {
		return this.unresolvedReason == null;
	}

}
