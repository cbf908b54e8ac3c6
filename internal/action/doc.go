// Package action holds the shell script of the test step of the
// repository's GitHub Action (action.yml), gotest.sh, and its test. A
// script in a file of its own can be run by a test and checked by
// shellcheck, which a script inline in action.yml cannot.
//
// Imported by no Go package (action.yml runs the script by path; this
// package's own test runs it too); imports nothing.
package action
