// Package summary is the logic of "stallproof summary" and "stallproof
// testlog", used by the repository's GitHub Action (action.yml).
//
// [Summary.Add] reads go test -json streams (several for a sharded soak:
// one per shard) and picks up the verdict lines of the property suite
// (report.FormatVerdict), merging the rows of the same package, test and
// property over every stream: a row fails if any run failed, its checks
// are summed and its shards listed. It also keeps the tests that failed
// without a failing verdict to explain them (a mutant not caught, a build
// error, a panic). [Summary.Write] writes the job summary in Markdown: a
// table of property × verdict with the violation (for a skip, its reason)
// and each failure's timeline, found under the report directory
// (STALLPROOF_REPORT_DIR): a link into the uploaded reports, or, run
// locally with no artifact, its path on disk. The properties of one test
// that were not run because an earlier one found the server stopped
// answering share one row, which names the cause once. [Text] turns go
// test -json back into go test's text output for the CI log.
//
// Imported by cmd/stallproof only; imports only the standard library and
// package [report].
package summary
