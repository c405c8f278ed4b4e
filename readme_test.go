package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// The README's commands, tested from the README itself so that it cannot
// rot: TestREADMEBlocks runs every command block, TestREADMECommandLines
// checks that every jobsync command line it writes anywhere parses.

// readmeBlock is an indented code block of the README.
type readmeBlock struct {
	line  int // of its first line
	lines []string
}

func readmeBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	f, err := os.Open("README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []readmeBlock
	var cur *readmeBlock
	fenced, prevBlank := false, true
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		if strings.HasPrefix(l, "```") {
			fenced = !fenced
		}
		switch {
		case fenced || strings.HasPrefix(l, "```"):
			cur = nil
		case strings.HasPrefix(l, "    ") && (cur != nil || prevBlank):
			if cur == nil {
				out = append(out, readmeBlock{line: n})
				cur = &out[len(out)-1]
			}
			cur.lines = append(cur.lines, strings.TrimPrefix(l, "    "))
		case strings.TrimSpace(l) == "" && cur != nil:
			cur.lines = append(cur.lines, "")
		default:
			cur = nil
		}
		prevBlank = strings.TrimSpace(l) == ""
	}
	return out
}

var (
	envPrefixRE = regexp.MustCompile(`^(?:[A-Z_][A-Z0-9_]*=\S*\s+)*`)
	// The commands a shell block of the README may start with.
	shellWords = map[string]bool{"jobsync": true, "go": true, "cd": true, "export": true, "curl": true, "databricks": true}
	// Other tools' commands, which the README shows but this test does
	// not run (the clients themselves are not installed here; the
	// emulator's tests drive their requests).
	otherTools = map[string]bool{"databricks": true, "terraform": true}
)

// command is the first word of a shell line after VAR=value prefixes.
func command(line string) string {
	rest := envPrefixRE.ReplaceAllString(strings.TrimSpace(line), "")
	w, _, _ := strings.Cut(rest, " ")
	return w
}

func isShellBlock(b readmeBlock) bool {
	for _, l := range b.lines {
		if s := strings.TrimSpace(l); s != "" && !strings.HasPrefix(s, "#") {
			return shellWords[command(s)]
		}
	}
	return false
}

// freePort is a loopback port nothing listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestREADMEBlocks runs every command block of the README, in order, in one
// copy of the repository's examples (what a reader following the README
// from a clone has), each block in a fresh bash from the repository root.
// Every command must succeed. The only changes to what the README says:
//
//   - `go run .` is the jobsync binary built from the same source (this
//     test's), and `go test ./...` is not run (it is what runs this test);
//   - 127.0.0.1:8089 becomes a free loopback port: the machine is shared;
//   - `jobsync emulator ...`, which serves until stopped, runs in the
//     background until the next one or the end, and a block that talks to
//     127.0.0.1:8089 gets one started first when none runs;
//   - the commands of other tools (the databricks CLI, terraform) are
//     listed in the log, not run.
func TestREADMEBlocks(t *testing.T) {
	repo, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := copyDir(filepath.Join(repo, "examples"), filepath.Join(root, "examples")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	emptyCfg := filepath.Join(home, "empty.cfg")
	if err := os.WriteFile(emptyCfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABRICKS_") && !strings.HasPrefix(kv, "JOBSYNC_") && !strings.HasPrefix(kv, "ARM_") {
			env = append(env, kv)
		}
	}
	env = append(env, "HOME="+home, "NO_COLOR=1", "DATABRICKS_CONFIG_FILE="+emptyCfg, "JOBSYNC_EMULATOR_RUN_TIME=400ms")

	addr := ""
	var emu *exec.Cmd
	startEmulator := func(line string) {
		if emu != nil {
			stopProcess(emu)
		}
		addr = freePort(t)
		args := strings.Fields(strings.ReplaceAll(line, "127.0.0.1:8089", addr))
		emu = exec.Command(args[0], args[1:]...)
		emu.Dir, emu.Env = root, env
		emu.Stdout, emu.Stderr = io.Discard, io.Discard
		if err := emu.Start(); err != nil {
			t.Fatalf("starting %s: %v", line, err)
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: nothing listens on %s", line, addr)
			}
		}
	}
	t.Cleanup(func() {
		if emu != nil {
			stopProcess(emu)
		}
	})

	ran := 0
	for _, b := range readmeBlocks(t) {
		if !isShellBlock(b) {
			continue
		}
		var script []string
		uses8089 := false
		for i, l := range b.lines {
			s := strings.TrimSpace(l)
			switch cmd := command(s); {
			case s == "" || strings.HasPrefix(s, "#"):
			case strings.HasPrefix(s, "go test"):
				t.Logf("README.md:%d: %s: not run (it runs this test)", b.line+i, s)
			case otherTools[cmd]:
				t.Logf("README.md:%d: %s: another tool's command, not run", b.line+i, s)
			case strings.HasPrefix(s, "jobsync emulator"):
				startEmulator(strings.TrimSuffix(strings.TrimSpace(strings.SplitN(s, "#", 2)[0]), "&"))
			default:
				uses8089 = uses8089 || strings.Contains(s, "127.0.0.1:8089")
				script = append(script, strings.Replace(s, "go run . ", "jobsync ", 1))
			}
		}
		if len(script) == 0 {
			continue
		}
		if uses8089 && emu == nil {
			startEmulator("jobsync emulator --addr 127.0.0.1:8089")
		}
		text := strings.ReplaceAll(strings.Join(script, "\n"), "127.0.0.1:8089", addr)
		cmd := exec.Command("bash", "-e", "-c", text)
		cmd.Dir, cmd.Env = root, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("README.md:%d: the block failed (%v):\n%s\n--- output:\n%s", b.line, err, text, out)
			continue
		}
		ran++
		t.Logf("README.md:%d: ran\n%s", b.line, text)
	}
	if ran < 4 {
		t.Errorf("only %d blocks of the README ran; is the README's layout what this test reads?", ran)
	}
}

// stopProcess ends a background jobsync the way Ctrl-C does.
func stopProcess(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGINT)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

var (
	inlineCodeRE = regexp.MustCompile("`(jobsync [^`]+)`")
	// A command line with syntax in it (alternatives, optional parts,
	// elisions) describes commands rather than being one.
	syntaxRE = regexp.MustCompile(`\\\||\[|\.\.\.|…|<[^>]*>`)
)

// TestREADMECommandLines checks that every jobsync command line the README
// writes (in code blocks, in the CI recipe's run steps, and in the text)
// names a command that exists with flags it has: each is parsed as jobsync
// would parse it, with every command's action replaced by one that does
// nothing. Lines that describe syntax ("state list | show KEY",
// "[--data FILE]") are left out.
func TestREADMECommandLines(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	isCommand := func(s string) bool {
		s = envPrefixRE.ReplaceAllString(s, "")
		return strings.HasPrefix(s, "jobsync ") || strings.HasPrefix(s, "go run . ")
	}
	// Code blocks, indented and fenced (the CI recipe's run steps).
	for _, blk := range readmeBlocks(t) {
		for _, l := range blk.lines {
			if s := strings.TrimSpace(l); isShellBlock(blk) && isCommand(s) {
				lines = append(lines, envPrefixRE.ReplaceAllString(s, ""))
			}
		}
	}
	fenced := false
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "```") {
			fenced = !fenced
			continue
		}
		if s := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "- run:")); fenced && isCommand(s) {
			lines = append(lines, envPrefixRE.ReplaceAllString(s, ""))
		}
		// And the text's own `jobsync ...` spans.
		for _, m := range inlineCodeRE.FindAllStringSubmatch(l, -1) {
			lines = append(lines, m[1])
		}
	}
	checked := 0
	for _, line := range lines {
		if syntaxRE.MatchString(line) {
			continue
		}
		args, err := shellWordsOf(line)
		if err != nil {
			t.Errorf("README: %q: %v", line, err)
			continue
		}
		if len(args) > 1 && args[0] == "go" && args[1] == "run" {
			args = append([]string{"jobsync"}, args[3:]...)
		}
		if err := parseOnly(args); err != nil {
			t.Errorf("README: %q does not parse: %v", line, err)
		}
		checked++
	}
	t.Logf("%d command lines parsed", checked)
	if checked < 20 {
		t.Errorf("only %d command lines checked; is the README's layout what this test reads?", checked)
	}
}

// shellWordsOf splits a shell command line into words (quotes, and the
// end at a comment, a pipe, a redirection or a separator).
func shellWordsOf(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	in, quote := false, byte(0)
	flush := func() {
		if in {
			words = append(words, cur.String())
			cur.Reset()
			in = false
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\t':
			flush()
		case (c == '#' && !in) || c == '|' || c == '>' || c == ';' || c == '&' || c == '<':
			flush()
			return words, nil
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unclosed quote")
	}
	flush()
	return words, nil
}

// parseOnly parses args as jobsync does, running no command.
func parseOnly(args []string) error {
	e := &env{stdio: stdio{in: strings.NewReader(""), out: io.Discard, err: io.Discard}, getenv: func(string) string { return "" }}
	app := newApp(e)
	var noop func(cmds []*cli.Command)
	noop = func(cmds []*cli.Command) {
		for _, c := range cmds {
			c.Action = func(*cli.Context) error { return nil }
			c.Before, c.After = nil, nil
			noop(c.Subcommands)
		}
	}
	noop(app.Commands)
	app.Before, app.After = nil, nil
	if len(args) < 2 || findCommand(app.Commands, args[1]) == nil {
		return fmt.Errorf("no such command")
	}
	return app.RunContext(context.Background(), flagsFirst(app, args))
}
