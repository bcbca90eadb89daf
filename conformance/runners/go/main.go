// Command subinterp-conformance-go is the Go runner of the conformance suite
// (docs/conformance.md).
//
// It runs the cases through the Go binding as a Go program would use it:
// Interpreter, Queue, Config, RunOptions, the runtime functions, and the
// binding's Go values (Tuple, Dict, Pickled, *Buffer, *Queue...). Tagged JSON
// values become those values; errors are *subinterp.Error and
// *subinterp.PythonError, mapped back to status names with Status.String.
//
//	subinterp-conformance-go [--case NAME]... FILE...
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	subinterp "github.com/subinterp/subinterp/bindings/go"
)

const lang = "go"

// capabilities are what the Go binding can express (docs/conformance.md,
// "Capabilities"):
//
//   - host-native: a Go program embeds CPython.
//   - data-api: Dict keeps entries in order (repeated keys too), Pickled is
//     any pickle bytes, and typed reads are type assertions on the values
//     the binding gives back.
//   - raw-utf8: a Go string holds any bytes, and the binding passes them on
//     (source as a C string, str values with their length).
//
// Not host-python, c-pointers (the binding never passes NULL), c-structs
// (Config and RuntimeOptions hold bools, no struct_size), queue-holds (a
// hold is a Queue handle: Close drops the handle's own hold and cannot fail,
// so releasing by id, or a hold after the queue was destroyed, cannot be
// written), untyped-args (CallWith takes args []any, always a tuple, and
// kwargs as a map[string]any; PrepareMain a map[string]any).
var capabilities = []string{"host-native", "data-api", "raw-utf8"}

const usage = "usage: subinterp-conformance-go [--case NAME]... FILE..."

func parseArgs(args []string) (cases, files []string, err error) {
	for i := 0; i < len(args); i++ {
		switch arg := args[i]; {
		case arg == "--case":
			if i+1 == len(args) {
				return nil, nil, fmt.Errorf("--case needs a case name")
			}
			i++
			cases = append(cases, args[i])
		case strings.HasPrefix(arg, "--"):
			return nil, nil, fmt.Errorf("unknown option %s", arg)
		default:
			files = append(files, arg)
		}
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("no case files")
	}
	return cases, files, nil
}

// protocol is where the result lines go: a copy of file descriptor 1, fd 1
// itself pointing at stderr from then on, so that whatever Python code
// prints without capture cannot corrupt the lines.
type protocol struct{ out *os.File }

func openProtocol() (*protocol, error) {
	fd, err := dupCloseOnExec(1)
	if err != nil {
		return nil, fmt.Errorf("dup(1): %w", err)
	}
	if err := redirect(2, 1); err != nil {
		return nil, fmt.Errorf("dup2(2, 1): %w", err)
	}
	return &protocol{os.NewFile(uintptr(fd), "protocol")}, nil
}

// emit writes one JSON line (one write: the file is unbuffered).
func (p *protocol) emit(record map[string]any) {
	line, err := json.Marshal(record)
	if err == nil {
		_, err = p.out.Write(append(line, '\n'))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "subinterp-conformance-go: cannot write a result: %v\n", err)
		os.Exit(2)
	}
}

// readCases reads a case file's cases, numbers kept as json.Number (ints of
// any size stay exact).
func readCases(path string) ([]any, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	decoder := json.NewDecoder(file)
	decoder.UseNumber()
	var document struct {
		Cases []any `json:"cases"`
	}
	if err := decoder.Decode(&document); err != nil {
		return nil, err
	}
	return document.Cases, nil
}

// runCase runs one case: its status and detail.
func runCase(spec map[string]any) (status, detail string) {
	var missing []string
	requires, _ := spec["requires"].([]any)
	for _, need := range requires {
		if name, _ := need.(string); !slices.Contains(capabilities, name) {
			missing = append(missing, fmt.Sprint(need))
		}
	}
	if len(missing) > 0 {
		return "skip", "requires " + strings.Join(missing, ", ")
	}
	steps, ok := spec["steps"].([]any)
	if !ok {
		return "error", "the case has no steps"
	}
	c := newCase()
	defer c.cleanup()
	defer func() {
		if panicked := recover(); panicked != nil {
			status, detail = "error", fmt.Sprintf("runner error: panic: %v", panicked)
		}
	}()
	err := c.run(steps)
	if err == nil {
		return "pass", ""
	}
	if failed, ok := err.(*failure); ok {
		return "fail", failed.detail
	}
	return "error", err.Error()
}

func main() {
	selected, files, err := parseArgs(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "subinterp-conformance-go: %v\n%s\n", err, usage)
		os.Exit(2)
	}
	out, err := openProtocol()
	if err != nil {
		fmt.Fprintf(os.Stderr, "subinterp-conformance-go: cannot set up the protocol stream: %v\n", err)
		os.Exit(2)
	}
	out.emit(map[string]any{"runner": "go", "lang": lang, "capabilities": capabilities,
		"library": subinterp.Version(), "python": subinterp.PythonVersion()})
	for _, path := range files {
		cases, err := readCases(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "subinterp-conformance-go: %s: %v\n", path, err)
			os.Exit(2)
		}
		for _, raw := range cases {
			spec, _ := raw.(map[string]any)
			name, _ := spec["name"].(string)
			if name == "" {
				name = "?"
			}
			if len(selected) > 0 && !slices.Contains(selected, name) {
				continue
			}
			status, detail := runCase(spec)
			out.emit(map[string]any{"case": name, "lang": lang, "status": status, "detail": detail})
		}
	}
}
