package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/stallproof/stallproof/internal/summary"
)

func init() {
	register("summary", "job summary (Markdown) from go test -json output and a report directory", runSummary)
	register("testlog", "print go test -json from stdin as go test's text output", runTestlog)
}

// stdin is testlog's and summary's input, replaced by tests.
var stdin io.Reader = os.Stdin

func runSummary(_ context.Context, args []string) error {
	fs := newFlagSet("summary", "summary [flags] GO-TEST-JSON-FILE...")
	reports := fs.String("reports", "", "the report directory of the run(s) (`STALLPROOF_REPORT_DIR`)")
	url := fs.String("artifact-url", "", "where the reports were uploaded; timelines link there")
	title := fs.String("title", "stallproof", "the summary's heading")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: stallproof summary [flags] GO-TEST-JSON-FILE...\n\n"+
			"Reads the output of go test -json (one file per run or shard; - for stdin) and writes a\n"+
			"Markdown table of property verdicts to stdout, for $GITHUB_STEP_SUMMARY.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(fs.Output(), "summary: name at least one go test -json file")
		return errUsage
	}
	var s summary.Summary
	for _, name := range fs.Args() {
		if name == "-" {
			if err := s.Add(stdin, "stdin"); err != nil {
				return err
			}
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		err = s.Add(f, name)
		f.Close()
		if err != nil {
			return err
		}
	}
	return s.Write(stdout, summary.Options{ReportDir: *reports, ArtifactURL: *url, Title: *title})
}

func runTestlog(_ context.Context, args []string) error {
	fs := newFlagSet("testlog", "testlog < GO-TEST-JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	return summary.Text(stdout, stdin)
}
