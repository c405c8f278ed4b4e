package main

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// flagsFirst moves every flag of the command line in front of the
// command's arguments, so that `jobsync plan jobs/ -o p.json` and `jobsync
// run KEY --wait` mean what they say, as they do in git, terraform and
// kubectl. urfave/cli (like Go's flag package) stops parsing flags at the
// first argument, and would otherwise take "-o" for a path.
//
// It finds the command (and subcommand) named on the line and asks its
// flags which of them take a value, so that the value after "--out" stays
// with it and flags added to any command later need nothing here. "--"
// ends the flags: what follows it is arguments, even when it starts with
// "-". The arguments keep their order and are written after a "--" of our
// own, so none of them is ever read as a flag. A line naming no known
// command is returned as it is, for urfave/cli to report.
func flagsFirst(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	i := 1
	// The app's own flags (--help, --version) come before the command.
	for i < len(args) && isFlag(args[i]) {
		out = append(out, args[i])
		i++
	}
	if i == len(args) {
		return args
	}
	cmd := findCommand(app.Commands, args[i])
	if cmd == nil {
		return args
	}
	out = append(out, args[i])
	rest := args[i+1:]
	for len(cmd.Subcommands) > 0 {
		// `jobsync state list ...`: the subcommand is the first argument;
		// flags written before it are the subcommand's too.
		j := firstArg(cmd, rest)
		if j < 0 {
			break
		}
		sub := findCommand(cmd.Subcommands, rest[j])
		if sub == nil {
			break
		}
		out = append(out, sub.Name)
		rest = append(append([]string{}, rest[:j]...), rest[j+1:]...)
		cmd = sub
	}
	flags, positional := splitFlags(cmd, rest)
	out = append(out, flags...)
	if len(positional) > 0 {
		out = append(out, "--")
		out = append(out, positional...)
	}
	return out
}

// bareFlags are flags with a value that may also be written alone, as
// they once were booleans: alone, they mean bare.
var bareFlags = map[string]*struct {
	bare   string
	values []string
}{
	// --progress was "print progress even when not a terminal".
	"--progress": {"plain", []string{"auto", "plain", "tty", "none"}},
}

// splitFlags separates the flags (each with its value, when it takes one)
// from the arguments.
func splitFlags(cmd *cli.Command, args []string) (flags, positional []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return flags, append(positional, args[i+1:]...)
		case !isFlag(a):
			positional = append(positional, a)
		case bareFlags[a] != nil && (i+1 == len(args) || !slices.Contains(bareFlags[a].values, args[i+1])):
			flags = append(flags, a+"="+bareFlags[a].bare)
		default:
			flags = append(flags, a)
			if takesValue(cmd, a) && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		}
	}
	return flags, positional
}

// firstArg is the index of the first argument (not a flag nor a flag's
// value) in args, or -1.
func firstArg(cmd *cli.Command, args []string) int {
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == "--":
			if i+1 < len(args) {
				return i + 1
			}
			return -1
		case !isFlag(args[i]):
			return i
		case takesValue(cmd, args[i]):
			i++
		}
	}
	return -1
}

// isFlag: "-" alone is an argument (standard input, by convention).
func isFlag(a string) bool { return len(a) > 1 && a[0] == '-' }

// takesValue tells whether the flag token a ("--out", "-o", never
// "--out=x") is one of cmd's flags that reads the next token as its value.
// Unknown flags take none; urfave/cli reports them.
func takesValue(cmd *cli.Command, a string) bool {
	name := strings.TrimLeft(a, "-")
	if strings.Contains(name, "=") {
		return false
	}
	for _, f := range cmd.Flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			df, ok := f.(cli.DocGenerationFlag)
			return ok && df.TakesValue()
		}
	}
	return false
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}
