/**
 * The migration lint: the service's statement -> lock-mode table (the one preflight uses) applied to migration
 * files at build time, without a database. {@link io.pglockwatch.lint.Lint} is the API,
 * {@link io.pglockwatch.lint.LintAssertions} the call for a project's tests and
 * {@link io.pglockwatch.lint.LintCommand} the command for pipelines; docs/lint.md describes the rules.
 */
package io.pglockwatch.lint;
