package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/stallproof/stallproof/cmd/stallproof/internal/summary"
)

func init() {
	register("summary", "job summary (Markdown) from go test -json output and a report directory", runSummary)
	register("testlog", "print go test -json from stdin as go test's text output", runTestlog)
}

// stdin is testlog's and summary's input, replaced by tests.
var stdin io.Reader = os.Stdin

func runSummary(_ context.Context, args []string) error {
	fs := newFlagSet("summary", "summary [flags] [GO-TEST-JSON-FILE...]")
	reports := fs.String("reports", "", "the report directory of the run(s) (`STALLPROOF_REPORT_DIR`)")
	url := fs.String("artifact-url", "", "where the reports were uploaded; timelines link there")
	title := fs.String("title", "stallproof", "the summary's heading")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: stallproof summary [flags] [GO-TEST-JSON-FILE...]\n\n"+
			"Reads the output of go test -json (one file per run or shard; - or no file for stdin) and\n"+
			"writes a Markdown table of property verdicts to stdout, for $GITHUB_STEP_SUMMARY or a\n"+
			"terminal. Locally:\n\n"+
			"    STALLPROOF_REPORT_DIR=$PWD/reports go test -json ./... | stallproof summary -reports reports\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	names := fs.Args()
	if len(names) == 0 {
		names = []string{"-"} // go test -json ./... | stallproof summary
	}
	var s summary.Summary
	for _, name := range names {
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
