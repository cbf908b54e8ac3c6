// Command stallproof runs the stallproof tools: the reference voting
// server (or a broken design), a side-by-side chaos demo of server designs
// under faulty clients, a load benchmark for any protocol v1 server on this
// machine, the property suite against any server, a fault-injecting TCP
// proxy, and the CI's test summaries.
//
//	stallproof chaos [flags]     run the reference server and broken designs side by
//	                             side while clients stall, trickle, half-close or reset
//	stallproof bench [flags]     load a protocol v1 server (in-process, or on a loopback
//	                             address) and report votes/s, latency and heap
//	stallproof serve [flags]     run the reference voting server on a TCP address, or
//	                             with -design a broken one
//	stallproof check [flags]     run the property suite against a server on a loopback
//	                             address, in any language
//	stallproof proxy [flags]     a loopback TCP proxy that injects faultnet faults
//	                             between a client and any server
//	stallproof summary [flags]   a job summary (Markdown) from go test -json output
//	                             and a report directory
//	stallproof testlog           print go test -json from stdin as go test's text
//	stallproof help [command]    show this list, or a command's flags
//
// Every command prints its flags with -h. A usage error exits with status
// 2 and a message that starts with "stallproof <command>:" and names the
// flag at fault; a failure exits with status 1.
//
// A subcommand lives in its own file and registers itself with one line:
//
//	func init() { register("name", "one-line summary", run) }
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
)

// A command is one subcommand. run gets the arguments after the
// subcommand's name and a context cancelled on SIGINT or SIGTERM; it
// returns flag.ErrHelp after printing its usage for -h.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string) error
}

var commands []command

// register adds a subcommand. Call it from an init function.
func register(name, summary string, run func(ctx context.Context, args []string) error) {
	commands = append(commands, command{name, summary, run})
	slices.SortFunc(commands, func(a, b command) int { return strings.Compare(a.name, b.name) })
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// Output streams, replaced by tests.
var (
	stdout io.Writer = os.Stdout
	stderr io.Writer = os.Stderr
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// run runs the command line args and returns the exit code.
func run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 && rest[0] != "help" {
			if c, ok := lookup(rest[0]); ok {
				c.run(ctx, []string{"-h"})
				return 0
			}
			fmt.Fprintf(stderr, "stallproof: unknown command %q\n", rest[0])
			return 2
		}
		usage(stdout)
		return 0
	}
	c, ok := lookup(name)
	if !ok {
		fmt.Fprintf(stderr, "stallproof: unknown command %q\n\n", name)
		usage(stderr)
		return 2
	}
	switch err := c.run(ctx, rest); {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(stderr, "stallproof %s: %v\n", name, err)
		return 1
	}
}

// errUsage is returned by a command whose arguments are wrong, after it
// printed why.
var errUsage = errors.New("usage")

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: stallproof <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "  %-10s %s\n", "help", "show this help, or a command's flags: stallproof help <command>")
}

// newFlagSet returns a flag set for a subcommand that reports errors as
// errUsage and prints to stderr.
func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: stallproof %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// oldFlagName lets old, the former name of the flag now called name, set
// that flag, so that scripts written for the old name keep working; -h
// lists it as such. Define the flag first.
func oldFlagName(fs *flag.FlagSet, old, name string) {
	fs.Var(fs.Lookup(name).Value, old, "the old name of -"+name)
}

// addHelp makes fs's usage, when asked for with -h, end with text: a
// longer help than the flags, not repeated after every flag error.
func addHelp(fs *flag.FlagSet, args []string, text string) {
	usage := fs.Usage
	fs.Usage = func() {
		usage()
		if wantsHelp(args) {
			fmt.Fprint(fs.Output(), text)
		}
	}
}

// wantsHelp reports whether args ask for help.
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help", "--h":
			return true
		}
	}
	return false
}

// parse parses args with fs, mapping a parse error to errUsage.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %q\n", fs.Args())
		return errUsage
	}
	return nil
}
