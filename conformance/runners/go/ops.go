package main

// The ops (docs/conformance.md, "Steps"), each mapped onto the Go binding as
// a Go program would use it. The binding has no raw layer: where it has no
// equivalent of an op or of an argument, the step cannot be expressed (an
// error of the case, or a capability the runner does not declare).

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"time"

	subinterp "github.com/subinterp/subinterp/bindings/go"
)

type (
	step    = map[string]any
	expects = map[string]any
	handler func(c *Case, s step, e expects) (*binding, error)
)

// opSpec is an op's handler and the expectations it checks (besides the
// error ones, which every op checks).
type opSpec struct {
	handler handler
	expects []string
}

var ops map[string]opSpec

func init() {
	ops = map[string]opSpec{
		"versions":         {opVersions, []string{"library", "python_series"}},
		"runtime_init":     {opRuntimeInit, nil},
		"runtime_finalize": {opRuntimeFinalize, nil},
		"runtime_get_mode": {opRuntimeGetMode, []string{"mode"}},
		"config_init":      {opConfigInit, []string{"config"}},
		"config_validate":  {opConfigValidate, nil},
		"create":           {opCreate, nil},
		"destroy":          {opDestroy, nil},
		"list":             {opList, []string{"includes", "excludes", "first"}},
		"main_id":          {opMainID, []string{"id"}},
		"current_id":       {opCurrentID, []string{"id"}},
		"is_running":       {opIsRunning, []string{"running"}},
		"get_config":       {opGetConfig, []string{"config"}},
		"exec":             {opExec, []string{"stdout", "stderr"}},
		"call":             {opCall, []string{"value", "stdout", "stderr"}},
		"prepare_main":     {opPrepareMain, nil},
		"data":             {opData, []string{"kind", "repr", "len", "equals"}},
		"data_get":         {opDataGet, []string{"value"}},
		"queue_create":     {opQueueCreate, nil},
		"queue_put":        {opQueuePut, []string{"elapsed_at_least"}},
		"queue_get":        {opQueueGet, []string{"value", "unbound", "elapsed_at_least"}},
		"queue_size":       {opQueueSize, []string{"size"}},
		"queue_info":       {opQueueInfo, []string{"info"}},
		"queue_list":       {opQueueList, []string{"includes", "excludes"}},
		"queue_close":      {opQueueClose, nil},
		"queue_retain":     {opQueueRetain, nil},
		"queue_release":    {opQueueRelease, nil},
		"queue_destroy":    {opQueueDestroy, nil},
		"status_name":      {opStatusName, []string{"name"}},
		"interrupt":        {opInterrupt, []string{"value"}},
		"check_imports":    {opCheckImports, []string{"value"}},
		"pool_create":      {opPoolCreate, nil},
		"pool_submit":      {opPoolSubmit, nil},
		"pool_call":        {opPoolCall, []string{"value", "stdout", "stderr"}},
		"pool_map":         {opPoolMap, []string{"value"}},
		"pool_shutdown":    {opPoolShutdown, nil},
		"pool_check":       {opPoolCheck, nil},
		"pool_stats":       {opPoolStats, []string{"stats"}},
		"pool_worker":      {opPoolWorker, []string{"worker"}},
		"pool_free":        {opPoolFree, nil},
		"future_result":    {opFutureResult, []string{"value", "stdout", "stderr"}},
		"future_wait":      {opFutureWait, nil},
		"future_state":     {opFutureState, []string{"value"}},
		"future_cancel":    {opFutureCancel, []string{"value"}},
		// null_pointer needs c-pointers: the binding never passes NULL.
	}
}

// ---- arguments and checks -------------------------------------------------

func arg(s step, key string) (any, error) {
	value, ok := s[key]
	if !ok {
		return nil, unsupportedf("missing %q", key)
	}
	return value, nil
}

// idArg is the interpreter or queue id a step names (a bound name or a literal).
func idArg(c *Case, s step, key string) (int64, error) {
	reference, err := arg(s, key)
	if err != nil {
		return 0, err
	}
	return c.resolve(reference)
}

// intArg is a JSON integer as an int64.
func intArg(v any) (int64, bool) {
	number, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	n, err := number.Int64()
	return n, err == nil
}

// floatArg is a JSON number as a float64.
func floatArg(v any) (float64, bool) {
	number, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	x, err := number.Float64()
	return x, err == nil
}

// interpreter is a handle on the step's interpreter: the case's own handle if
// it created it, else FromID (which never destroys; a stale id gives
// NOT_FOUND when used).
func interpreter(c *Case, s step) (*subinterp.Interpreter, error) {
	id, err := idArg(c, s, "interp")
	if err != nil {
		return nil, err
	}
	for _, interp := range c.interpreters {
		if interp.ID() == id {
			return interp, nil
		}
	}
	return subinterp.FromID(id), nil
}

// queue is a handle on the step's queue id (NOT_FOUND if there is none),
// holding the queue for the step only.
func queue(c *Case, s step) (*subinterp.Queue, error) {
	id, err := idArg(c, s, "queue")
	if err != nil {
		return nil, err
	}
	q, err := subinterp.QueueFromID(id)
	if err != nil {
		return nil, err
	}
	c.own(q)
	return q, nil
}

func runOptions(s step) (subinterp.RunOptions, error) {
	var options subinterp.RunOptions
	if given, ok := s["timeout"]; ok {
		// The run's deadline: 0 or negative is none, as in C.
		seconds, ok := floatArg(given)
		if !ok {
			return options, unsupportedf("timeout must be a number")
		}
		options.Timeout = time.Duration(seconds * float64(time.Second))
	}
	flags, ok := s["flags"]
	if !ok {
		return options, nil
	}
	list, ok := flags.([]any)
	if !ok {
		return options, unsupportedf("flags must be an array")
	}
	for _, flag := range list {
		switch flag {
		case "capture_stdout":
			options.CaptureStdout = true
		case "capture_stderr":
			options.CaptureStderr = true
		case "strict":
			options.Strict = true
		default:
			return options, unsupportedf("unknown flag %s", compact(flag))
		}
	}
	return options, nil
}

func checkInt(e expects, key string, got int64) error {
	want, ok := e[key]
	if !ok {
		return nil
	}
	n, ok := intArg(want)
	if !ok {
		return unsupportedf("expect.%s must be an integer", key)
	}
	if n != got {
		return failf("%s: expected %d, got %d", key, n, got)
	}
	return nil
}

func checkBool(e expects, key string, got bool) error {
	want, ok := e[key]
	if !ok {
		return nil
	}
	b, ok := want.(bool)
	if !ok {
		return unsupportedf("expect.%s must be a bool", key)
	}
	if b != got {
		return failf("%s: expected %t, got %t", key, b, got)
	}
	return nil
}

func checkID(c *Case, e expects, got int64) error {
	want, ok := e["id"]
	if !ok {
		return nil
	}
	id, err := c.resolve(want)
	if err != nil {
		return err
	}
	if id != got {
		return failf("id %d, expected %s", got, compact(want))
	}
	return nil
}

// checkIDs checks includes, excludes and first of a list of ids.
func checkIDs(c *Case, e expects, ids []int64) error {
	references := func(key string) ([]any, error) {
		value, ok := e[key]
		if !ok {
			return nil, nil
		}
		list, ok := value.([]any)
		if !ok {
			return nil, unsupportedf("expect.%s must be an array of ids", key)
		}
		return list, nil
	}
	for _, key := range []string{"includes", "excludes"} {
		list, err := references(key)
		if err != nil {
			return err
		}
		for _, reference := range list {
			id, err := c.resolve(reference)
			if err != nil {
				return err
			}
			if slices.Contains(ids, id) != (key == "includes") {
				return failf("%s: %s (%d) in %v is %t", key, compact(reference), id, ids, key != "includes")
			}
		}
	}
	if first, ok := e["first"]; ok {
		id, err := c.resolve(first)
		if err != nil {
			return err
		}
		if len(ids) == 0 || ids[0] != id {
			return failf("expected %s first in %v", compact(first), ids)
		}
	}
	return nil
}

// ---- versions and runtime -------------------------------------------------

var (
	libraryVersion = regexp.MustCompile(`^\d+\.\d+\.\d+$`)
	pythonVersion  = regexp.MustCompile(`^(\d+\.\d+)\.\d+((a|b|rc)\d+)?\+?$`)
)

func opVersions(c *Case, s step, e expects) (*binding, error) {
	library, python := subinterp.Version(), subinterp.PythonVersion()
	if !libraryVersion.MatchString(library) {
		return nil, failf("library version %q is not X.Y.Z", library)
	}
	match := pythonVersion.FindStringSubmatch(python)
	if match == nil {
		return nil, failf("Python version %q is not X.Y.Z (with an optional pre-release)", python)
	}
	if want, err := expectString(e, "library"); err != nil {
		return nil, err
	} else if want != nil && *want != library {
		return nil, failf("library version %s, expected %s", library, *want)
	}
	if given, ok := e["python_series"]; ok {
		series, ok := given.([]any)
		if !ok {
			return nil, unsupportedf("python_series must be an array")
		}
		if !slices.Contains(series, any(match[1])) {
			return nil, failf("Python %s not in %s", python, compact(series))
		}
	}
	return nil, nil
}

// runtimeFlag is a runtime option flag: a bool, or 0 / 1 (a Go bool holds
// no other value).
func runtimeFlag(key string, value any) (bool, error) {
	if b, ok := value.(bool); ok {
		return b, nil
	}
	if n, ok := intArg(value); ok && (n == 0 || n == 1) {
		return n == 1, nil
	}
	return false, unsupportedf("options.%s = %s: RuntimeOptions takes a bool (needs c-structs)", key, compact(value))
}

func opRuntimeInit(c *Case, s step, e expects) (*binding, error) {
	given, ok := s["options"]
	if !ok {
		// No options (NULL in C): start with the defaults if not started.
		return nil, subinterp.EnsureStarted()
	}
	fields, ok := given.(map[string]any)
	if !ok {
		return nil, unsupportedf("options must be an object")
	}
	options := subinterp.DefaultRuntimeOptions()
	for key, value := range fields {
		var err error
		switch key {
		case "python_home":
			switch home := value.(type) {
			case nil:
				options.PythonHome = ""
			case string:
				if home == "" {
					return nil, unsupportedf("options.python_home \"\": RuntimeOptions.PythonHome \"\" means the default")
				}
				options.PythonHome = home
			default:
				return nil, unsupportedf("options.python_home must be a string or null")
			}
		case "import_site":
			options.ImportSite, err = runtimeFlag(key, value)
		case "install_signal_handlers":
			options.InstallSignalHandlers, err = runtimeFlag(key, value)
		case "struct_size":
			err = unsupportedf("options.struct_size (RuntimeOptions is a Go struct; needs c-structs)")
		default:
			err = unsupportedf("unknown runtime option %s", key)
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, subinterp.Init(options)
}

func opRuntimeFinalize(c *Case, s step, e expects) (*binding, error) {
	return nil, subinterp.Finalize()
}

func opRuntimeGetMode(c *Case, s step, e expects) (*binding, error) {
	var mode string
	switch got := subinterp.RuntimeMode(); got {
	case subinterp.ModeNotStarted:
		mode = "none"
	case subinterp.ModeEmbedded:
		mode = "embed"
	case subinterp.ModeAttached:
		mode = "attach"
	case subinterp.ModeFinalized:
		mode = "finalized"
	default:
		mode = fmt.Sprintf("(an unknown mode %d)", got)
	}
	want, err := expectString(e, "mode")
	if err != nil || want == nil {
		return nil, err
	}
	// A Go program is a native host: the runtime it starts is embedded.
	if *want == "started" {
		*want = "embed"
	}
	if mode != *want {
		return nil, failf("mode %s, expected %s", mode, *want)
	}
	return nil, nil
}

// ---- configs and interpreters ---------------------------------------------

// configFields are a Config's fields under the case format's names, as
// integers (gil as the C enum's number).
func configFields(config subinterp.Config) map[string]int64 {
	number := func(b bool) int64 {
		if b {
			return 1
		}
		return 0
	}
	return map[string]int64{
		"use_main_obmalloc":             number(config.UseMainObmalloc),
		"allow_fork":                    number(config.AllowFork),
		"allow_exec":                    number(config.AllowExec),
		"allow_threads":                 number(config.AllowThreads),
		"allow_daemon_threads":          number(config.AllowDaemonThreads),
		"check_multi_interp_extensions": number(config.CheckMultiInterpExtensions),
		"gil":                           int64(config.GIL),
	}
}

func preset(name any) (subinterp.Config, error) {
	switch name {
	case "isolated":
		return subinterp.IsolatedConfig(), nil
	case "legacy":
		return subinterp.LegacyConfig(), nil
	}
	return subinterp.Config{}, unsupportedf("preset %s: Go has IsolatedConfig and LegacyConfig (needs c-structs)",
		compact(name))
}

// configOf makes a Config of a CONFIG of a case: the preset with fields
// overridden. Booleans are 0 or 1; gil is a GIL, which holds any integer.
// Anything else cannot be a Go Config (c-structs).
func configOf(spec any) (subinterp.Config, error) {
	fields, ok := spec.(map[string]any)
	if !ok {
		return subinterp.Config{}, unsupportedf("a config must be an object")
	}
	config := subinterp.IsolatedConfig()
	if name, ok := fields["preset"]; ok {
		var err error
		if config, err = preset(name); err != nil {
			return config, err
		}
	}
	for field, value := range fields {
		number, isInt := intArg(value)
		flag := func(target *bool) error {
			if !isInt || (number != 0 && number != 1) {
				return unsupportedf("%s = %s cannot be a Go Config field, a bool (needs c-structs)", field, compact(value))
			}
			*target = number == 1
			return nil
		}
		var err error
		switch field {
		case "preset":
		case "use_main_obmalloc":
			err = flag(&config.UseMainObmalloc)
		case "allow_fork":
			err = flag(&config.AllowFork)
		case "allow_exec":
			err = flag(&config.AllowExec)
		case "allow_threads":
			err = flag(&config.AllowThreads)
		case "allow_daemon_threads":
			err = flag(&config.AllowDaemonThreads)
		case "check_multi_interp_extensions":
			err = flag(&config.CheckMultiInterpExtensions)
		case "gil":
			if !isInt {
				err = unsupportedf("gil must be an integer")
			}
			config.GIL = subinterp.GIL(number)
		case "struct_size":
			err = unsupportedf("struct_size (Config is a Go struct; needs c-structs)")
		default:
			err = unsupportedf("unknown config field %s", field)
		}
		if err != nil {
			return config, err
		}
	}
	return config, nil
}

func checkConfig(e expects, config subinterp.Config) error {
	given, ok := e["config"]
	if !ok {
		return nil
	}
	want, ok := given.(map[string]any)
	if !ok {
		return unsupportedf("expect.config must be an object")
	}
	fields := configFields(config)
	for field, value := range want {
		got, known := fields[field]
		if !known {
			return unsupportedf("unknown config field %s", field)
		}
		if n, ok := intArg(value); !ok || n != got {
			return failf("config.%s: expected %s, got %d", field, compact(value), got)
		}
	}
	return nil
}

func opConfigInit(c *Case, s step, e expects) (*binding, error) {
	name, err := arg(s, "preset")
	if err != nil {
		return nil, err
	}
	config, err := preset(name)
	if err != nil {
		return nil, err
	}
	return nil, checkConfig(e, config)
}

func opConfigValidate(c *Case, s step, e expects) (*binding, error) {
	spec, err := arg(s, "config")
	if err != nil {
		return nil, err
	}
	config, err := configOf(spec)
	if err != nil {
		return nil, err
	}
	return nil, config.Validate()
}

func opCreate(c *Case, s step, e expects) (*binding, error) {
	var interp *subinterp.Interpreter
	var err error
	if spec, ok := s["config"]; ok {
		config, problem := configOf(spec)
		if problem != nil {
			return nil, problem
		}
		interp, err = subinterp.NewWithConfig(config)
	} else {
		interp, err = subinterp.New()
	}
	if err != nil {
		return nil, err
	}
	c.interpreters = append(c.interpreters, interp)
	return &binding{id: interp.ID(), isID: true}, nil
}

func opDestroy(c *Case, s step, e expects) (*binding, error) {
	id, err := idArg(c, s, "interp")
	if err != nil {
		return nil, err
	}
	for index, interp := range c.interpreters {
		if interp.ID() == id {
			// An interpreter the case made: Close destroys it and says why
			// not (it stays usable and owned then).
			if err := interp.Close(); err != nil {
				return nil, err
			}
			c.interpreters = slices.Delete(c.interpreters, index, index+1)
			return nil, nil
		}
	}
	// Any other id (destroyed, never existed, main): Destroy on a handle.
	return nil, subinterp.FromID(id).Destroy()
}

func opList(c *Case, s step, e expects) (*binding, error) {
	ids, err := subinterp.List()
	if err != nil {
		return nil, err
	}
	return nil, checkIDs(c, e, ids)
}

func opMainID(c *Case, s step, e expects) (*binding, error) {
	main, err := subinterp.Main()
	if err != nil {
		return nil, err
	}
	if err := checkID(c, e, main.ID()); err != nil {
		return nil, err
	}
	return &binding{id: main.ID(), isID: true}, nil
}

func opCurrentID(c *Case, s step, e expects) (*binding, error) {
	id, err := subinterp.CurrentID()
	if err != nil {
		return nil, err
	}
	if err := checkID(c, e, id); err != nil {
		return nil, err
	}
	return &binding{id: id, isID: true}, nil
}

func opIsRunning(c *Case, s step, e expects) (*binding, error) {
	interp, err := interpreter(c, s)
	if err != nil {
		return nil, err
	}
	running, err := interp.IsRunning()
	if err != nil {
		return nil, err
	}
	return nil, checkBool(e, "running", running)
}

func opGetConfig(c *Case, s step, e expects) (*binding, error) {
	interp, err := interpreter(c, s)
	if err != nil {
		return nil, err
	}
	config, err := interp.Config()
	if err != nil {
		return nil, err
	}
	return nil, checkConfig(e, config)
}

// ---- running code ---------------------------------------------------------

func opExec(c *Case, s step, e expects) (*binding, error) {
	interp, err := interpreter(c, s)
	if err != nil {
		return nil, err
	}
	given, err := arg(s, "source")
	if err != nil {
		return nil, err
	}
	source, err := textOf(given)
	if err != nil {
		return nil, err
	}
	options, err := runOptions(s)
	if err != nil {
		return nil, err
	}
	output, err := interp.ExecWith(source, options)
	if err != nil {
		return nil, err
	}
	return nil, checkOutput(e, output)
}

// named is a dict with str keys as a map[string]any: what CallWith takes for
// keyword arguments and PrepareMain for names. Other kinds, other keys or a
// key given twice cannot be expressed (why says which signature refuses
// them): that needs untyped-args. A map has no order: the binding passes the
// entries sorted by key (a case where their order shows would fail, and be
// listed in xfail/go.txt; none does).
func named(value any, what, why string) (map[string]any, error) {
	dict, ok := value.(subinterp.Dict)
	if !ok {
		return nil, unsupportedf("%s of kind %s cannot be expressed: %s", what, kindOf(value), why)
	}
	names := make(map[string]any, len(dict))
	for _, item := range dict {
		key, ok := item.Key.(string)
		if !ok {
			return nil, unsupportedf("a %s key of kind %s cannot be expressed: %s", what, kindOf(item.Key), why)
		}
		if _, twice := names[key]; twice {
			return nil, unsupportedf("%s with the key %q twice cannot be expressed: %s", what, key, why)
		}
		names[key] = item.Value
	}
	return names, nil
}

func opCall(c *Case, s step, e expects) (*binding, error) {
	interp, err := interpreter(c, s)
	if err != nil {
		return nil, err
	}
	callable, ok := s["callable"].(string)
	if !ok {
		return nil, unsupportedf("callable must be a string")
	}
	args, err := c.positional(s)
	if err != nil {
		return nil, err
	}
	kwargs, err := c.keywords(s)
	if err != nil {
		return nil, err
	}
	options, err := runOptions(s)
	if err != nil {
		return nil, err
	}
	result, output, err := interp.CallWith(callable, args, kwargs, options)
	if err != nil {
		return nil, err
	}
	return c.callResult(e, result, output)
}

// callResult checks what a call gave (a direct call, a pool call, a
// future's result) against the step's expectations and binds it.
func (c *Case) callResult(e expects, result any, output subinterp.Output) (*binding, error) {
	c.own(result)
	if err := checkOutput(e, output); err != nil {
		return nil, err
	}
	if err := checkValue(c, e, result); err != nil {
		return nil, err
	}
	return &binding{value: result}, nil
}

// positional is a step's "args": a []any (the binding passes positional
// arguments as a tuple): a JSON array of values, or a tagged list or tuple.
// Absent (NULL in C): no arguments.
func (c *Case) positional(s step) ([]any, error) {
	return c.argList(s["args"])
}

// argList is one list of positional arguments (see positional).
func (c *Case) argList(list any) ([]any, error) {
	var args []any
	switch given := list.(type) {
	case nil:
	case []any:
		for _, item := range given {
			value, err := c.build(item)
			if err != nil {
				return nil, err
			}
			args = append(args, value)
		}
	default:
		value, err := c.build(given)
		if err != nil {
			return nil, err
		}
		switch items := value.(type) {
		case subinterp.Tuple:
			args = items
		case []any:
			args = items
		default:
			return nil, unsupportedf("args of kind %s cannot be expressed: CallWith takes positional arguments "+
				"as []any (needs untyped-args)", kindOf(value))
		}
	}
	return args, nil
}

// keywords is a step's "kwargs" as a map[string]any (nil when absent).
func (c *Case) keywords(s step) (map[string]any, error) {
	given, ok := s["kwargs"]
	if !ok {
		return nil, nil
	}
	value, err := c.build(given)
	if err != nil {
		return nil, err
	}
	return named(value, "kwargs", "CallWith takes keyword arguments as map[string]any (needs untyped-args)")
}

func opPrepareMain(c *Case, s step, e expects) (*binding, error) {
	interp, err := interpreter(c, s)
	if err != nil {
		return nil, err
	}
	given, err := arg(s, "names")
	if err != nil {
		return nil, err
	}
	value, err := c.build(given)
	if err != nil {
		return nil, err
	}
	names, err := named(value, "names", "PrepareMain takes a map[string]any (needs untyped-args)")
	if err != nil {
		return nil, err
	}
	return nil, interp.PrepareMain(names)
}

// ---- portable data --------------------------------------------------------

// roundTrip is a value through the library's conversion both ways (the
// binding's RoundTrip: into portable data and back), as a Go program makes
// and reads portable data. The library's refusals (a repeated dict key,
// invalid UTF-8...) come from the conversion into data.
func roundTrip(c *Case, s step) (any, error) {
	given, err := arg(s, "value")
	if err != nil {
		return nil, err
	}
	value, err := c.build(given)
	if err != nil {
		return nil, err
	}
	back, err := subinterp.RoundTrip(value)
	if err != nil {
		return nil, err
	}
	c.own(back)
	return back, nil
}

func opData(c *Case, s step, e expects) (*binding, error) {
	value, err := roundTrip(c, s)
	if err != nil {
		return nil, err
	}
	if want, err := expectString(e, "kind"); err != nil {
		return nil, err
	} else if want != nil && kindOf(value) != *want {
		return nil, failf("kind %s, expected %s", kindOf(value), *want)
	}
	if want, err := expectString(e, "repr"); err != nil {
		return nil, err
	} else if want != nil {
		repr, err := subinterp.Repr(value)
		if err != nil {
			return nil, err
		}
		if repr != *want {
			return nil, failf("repr %q, expected %q", repr, *want)
		}
	}
	if _, ok := e["len"]; ok {
		var n int
		switch v := value.(type) {
		case subinterp.Tuple:
			n = len(v)
		case []any:
			n = len(v)
		case subinterp.Dict:
			n = len(v)
		default:
			return nil, failf("expected a len, got a %s value", kindOf(value))
		}
		if err := checkInt(e, "len", int64(n)); err != nil {
			return nil, err
		}
	}
	if want, ok := e["equals"]; ok {
		if err := c.check(want, value, "equals"); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// signedBytes is n as the C ABI's int bytes: two's complement, little
// endian, minimal length (empty for 0).
func signedBytes(n *big.Int) []byte {
	if n.Sign() == 0 {
		return []byte{}
	}
	// The magnitude's bits plus a sign bit; -m takes as many bytes as m-1.
	bits := n.BitLen()
	if n.Sign() < 0 {
		bits = new(big.Int).Sub(new(big.Int).Neg(n), big.NewInt(1)).BitLen()
	}
	size := bits/8 + 1
	value := new(big.Int).Set(n)
	if n.Sign() < 0 {
		value.Add(value, new(big.Int).Lsh(big.NewInt(1), uint(8*size)))
	}
	bytes := value.FillBytes(make([]byte, size))
	slices.Reverse(bytes)
	return bytes
}

// opDataGet reads a value (after its trip through the library) as the type
// "as" names. In Go a typed read is a type assertion on the value the
// binding gives back (int64 or *big.Int, bool, float64, string, []byte,
// *Buffer, Pickled, *Queue, InterpreterID, Tuple or []any, Dict); one that
// fails is named with the status the C getter gives for it: TYPE for
// another kind, OVERFLOW for an int beyond int64 (a *big.Int), INDEX for an
// index past the end.
func opDataGet(c *Case, s step, e expects) (*binding, error) {
	value, err := roundTrip(c, s)
	if err != nil {
		return nil, err
	}
	as, ok := s["as"].(string)
	if !ok {
		return nil, unsupportedf("\"as\" must be a string")
	}
	_, hasIndex := s["index"]
	if hasIndex != (as == "item" || as == "entry") {
		return nil, unsupportedf("\"index\" goes with \"as\": item or entry, and only with them")
	}
	wrongKind := func(want string) error {
		return &refusal{"TYPE", fmt.Sprintf("expected %s, got %s", want, kindOf(value))}
	}
	index := func(length int) (int, error) {
		i, ok := intArg(s["index"])
		if !ok || i < 0 {
			return 0, unsupportedf("\"index\" must be a non-negative integer")
		}
		if i >= int64(length) {
			return 0, &refusal{"INDEX", fmt.Sprintf("index %d of a container of %d", i, length)}
		}
		return int(i), nil
	}
	var read any
	switch as {
	case "int64":
		switch n := value.(type) {
		case int64:
			read = n
		case *big.Int:
			return nil, &refusal{"OVERFLOW", fmt.Sprintf("%s does not fit int64", n)}
		default:
			return nil, wrongKind("an int")
		}
	case "int_bytes":
		n, ok := bigOf(value)
		if !ok {
			return nil, wrongKind("an int")
		}
		read = signedBytes(n)
	case "bool":
		if read, ok = value.(bool); !ok {
			return nil, wrongKind("a bool")
		}
	case "float":
		if read, ok = value.(float64); !ok {
			return nil, wrongKind("a float")
		}
	case "str":
		if read, ok = value.(string); !ok {
			return nil, wrongKind("a str")
		}
	case "bytes":
		if read, ok = value.([]byte); !ok {
			return nil, wrongKind("bytes")
		}
	case "buffer":
		if read, ok = value.(*subinterp.Buffer); !ok {
			return nil, wrongKind("a buffer")
		}
	case "pickled":
		pickled, ok := value.(subinterp.Pickled)
		if !ok {
			return nil, wrongKind("pickled")
		}
		read = []byte(pickled)
	case "queue":
		queue, ok := value.(*subinterp.Queue)
		if !ok {
			return nil, wrongKind("a queue")
		}
		read = queue.ID()
	case "interpreter":
		id, ok := value.(subinterp.InterpreterID)
		if !ok {
			return nil, wrongKind("an interpreter")
		}
		read = int64(id)
	case "item":
		var items []any
		switch v := value.(type) {
		case subinterp.Tuple:
			items = v
		case []any:
			items = v
		default:
			return nil, wrongKind("a tuple or list")
		}
		i, err := index(len(items))
		if err != nil {
			return nil, err
		}
		read = items[i]
	case "entry":
		dict, ok := value.(subinterp.Dict)
		if !ok {
			return nil, wrongKind("a dict")
		}
		i, err := index(len(dict))
		if err != nil {
			return nil, err
		}
		read = subinterp.Tuple{dict[i].Key, dict[i].Value}
	default:
		return nil, unsupportedf("unknown \"as\" %s", as)
	}
	if want, ok := e["value"]; ok {
		return nil, c.check(want, read, "value")
	}
	return nil, nil
}

// ---- queues ---------------------------------------------------------------

// wait is a step's timeout: seconds; 0 no wait, negative (or absent) forever.
type wait struct {
	forever, none bool
	timeout       time.Duration
}

func waitOf(s step) (wait, error) {
	given, ok := s["timeout"]
	if !ok {
		return wait{forever: true}, nil
	}
	seconds, ok := floatArg(given)
	switch {
	case !ok:
		return wait{}, unsupportedf("timeout must be a number")
	case seconds < 0:
		return wait{forever: true}, nil
	case seconds == 0:
		return wait{none: true}, nil
	}
	return wait{timeout: time.Duration(seconds * float64(time.Second))}, nil
}

// checkElapsed checks expect.elapsed_at_least, whatever the outcome.
func checkElapsed(e expects, start time.Time) error {
	elapsed := time.Since(start).Seconds()
	given, ok := e["elapsed_at_least"]
	if !ok {
		return nil
	}
	want, ok := floatArg(given)
	if !ok {
		return unsupportedf("expect.elapsed_at_least must be a number")
	}
	if elapsed < want {
		return failf("returned after %.3fs, before %gs", elapsed, want)
	}
	return nil
}

var unboundNames = map[string]subinterp.UnboundPolicy{
	"replace": subinterp.UnboundReplace, "error": subinterp.UnboundError, "remove": subinterp.UnboundRemove,
}

func unboundName(policy subinterp.UnboundPolicy) string {
	for name, p := range unboundNames {
		if p == policy {
			return name
		}
	}
	return fmt.Sprintf("(policy %d)", int(policy))
}

func opQueueCreate(c *Case, s step, e expects) (*binding, error) {
	var options subinterp.QueueOptions
	if given, ok := s["maxsize"]; ok {
		n, ok := intArg(given)
		if !ok {
			return nil, unsupportedf("maxsize must be an integer")
		}
		options.MaxSize = int(n)
	}
	switch policy := s["unbound"].(type) {
	case nil:
	case string:
		if policy != "default" {
			named, known := unboundNames[policy]
			if !known {
				return nil, unsupportedf("unknown unbound policy %q", policy)
			}
			options.Unbound = named
		}
	default:
		// An UnboundPolicy holds any integer (0 is the default).
		n, ok := intArg(policy)
		if !ok {
			return nil, unsupportedf("unbound must be a name or an integer")
		}
		options.Unbound = subinterp.UnboundPolicy(n)
	}
	q, err := subinterp.NewQueue(options)
	if err != nil {
		return nil, err
	}
	// The Queue is the case's hold on the queue.
	c.holds[q.ID()] = append(c.holds[q.ID()], q)
	return &binding{id: q.ID(), isID: true}, nil
}

func opQueuePut(c *Case, s step, e expects) (*binding, error) {
	start := time.Now()
	put := func() error {
		q, err := queue(c, s)
		if err != nil {
			return err
		}
		given, err := arg(s, "value")
		if err != nil {
			return err
		}
		item, err := c.build(given)
		if err != nil {
			return err
		}
		how, err := waitOf(s)
		switch {
		case err != nil:
			return err
		case how.forever:
			return q.Put(context.Background(), item)
		case how.none:
			return q.TryPut(item)
		}
		return q.PutTimeout(item, how.timeout)
	}
	err := put()
	if problem := checkElapsed(e, start); problem != nil {
		return nil, problem
	}
	return nil, err
}

func opQueueGet(c *Case, s step, e expects) (*binding, error) {
	start := time.Now()
	get := func() (any, error) {
		q, err := queue(c, s)
		if err != nil {
			return nil, err
		}
		how, err := waitOf(s)
		switch {
		case err != nil:
			return nil, err
		case how.forever:
			return q.Get(context.Background())
		case how.none:
			return q.TryGet()
		}
		return q.GetTimeout(how.timeout)
	}
	item, err := get()
	c.own(item)
	if problem := checkElapsed(e, start); problem != nil {
		return nil, problem
	}
	wantUnbound := false
	if given, ok := e["unbound"]; ok {
		if given != true {
			return nil, unsupportedf("expect.unbound must be true (leave it out otherwise)")
		}
		wantUnbound = true
	}
	if err != nil {
		return nil, err
	}
	switch unbound := item == subinterp.Unbound; {
	case unbound && wantUnbound:
		return &binding{value: nil}, nil
	case unbound:
		return nil, failf("got the Unbound marker, expected a value")
	case wantUnbound:
		return nil, failf("expected the Unbound marker, got %s", render(item))
	}
	if want, ok := e["value"]; ok {
		if err := c.check(want, item, "value"); err != nil {
			return nil, err
		}
	}
	return &binding{value: item}, nil
}

func opQueueSize(c *Case, s step, e expects) (*binding, error) {
	q, err := queue(c, s)
	if err != nil {
		return nil, err
	}
	size, err := q.Len()
	if err != nil {
		return nil, err
	}
	return nil, checkInt(e, "size", int64(size))
}

func opQueueInfo(c *Case, s step, e expects) (*binding, error) {
	q, err := queue(c, s)
	if err != nil {
		return nil, err
	}
	info, err := q.Info()
	if err != nil {
		return nil, err
	}
	if info.ID != q.ID() {
		return nil, failf("info.ID is %d, expected %d", info.ID, q.ID())
	}
	given, ok := e["info"]
	if !ok {
		return nil, nil
	}
	want, ok := given.(map[string]any)
	if !ok {
		return nil, unsupportedf("expect.info must be an object")
	}
	for field, value := range want {
		var same bool
		var got any
		switch field {
		case "maxsize":
			n, ok := intArg(value)
			same, got = ok && n == int64(info.MaxSize), info.MaxSize
		case "size":
			n, ok := intArg(value)
			same, got = ok && n == int64(info.Size), info.Size
		case "closed":
			same, got = value == info.Closed, info.Closed
		case "unbound":
			same, got = value == unboundName(info.Unbound), unboundName(info.Unbound)
		default:
			return nil, unsupportedf("unknown info field %s", field)
		}
		if !same {
			return nil, failf("info.%s: expected %s, got %v", field, compact(value), got)
		}
	}
	return nil, nil
}

func opQueueList(c *Case, s step, e expects) (*binding, error) {
	ids, err := subinterp.ListQueues()
	if err != nil {
		return nil, err
	}
	return nil, checkIDs(c, e, ids)
}

// opQueueClose closes the queue for everyone: Shutdown (Close only drops a
// handle).
func opQueueClose(c *Case, s step, e expects) (*binding, error) {
	q, err := queue(c, s)
	if err != nil {
		return nil, err
	}
	return nil, q.Shutdown()
}

// The case's holds are Queue handles: QueueFromID takes one, Close drops it.
// The queue-holds capability is not declared (see main.go): these ops are
// here for what Go can express, and no declared case uses them.

func opQueueRetain(c *Case, s step, e expects) (*binding, error) {
	id, err := idArg(c, s, "queue")
	if err != nil {
		return nil, err
	}
	q, err := subinterp.QueueFromID(id)
	if err != nil {
		return nil, err
	}
	c.holds[id] = append(c.holds[id], q)
	return nil, nil
}

func opQueueRelease(c *Case, s step, e expects) (*binding, error) {
	id, err := idArg(c, s, "queue")
	if err != nil {
		return nil, err
	}
	held := c.holds[id]
	if len(held) == 0 {
		return nil, unsupportedf("the case holds no handle on queue %d: Go releases a hold by closing the Queue "+
			"that took it, and has no release by id (needs queue-holds)", id)
	}
	c.holds[id] = held[:len(held)-1]
	return nil, held[len(held)-1].Close()
}

func opQueueDestroy(c *Case, s step, e expects) (*binding, error) {
	q, err := queue(c, s)
	if err != nil {
		return nil, err
	}
	return nil, q.Destroy()
}

func opStatusName(c *Case, s step, e expects) (*binding, error) {
	given, err := arg(s, "code")
	if err != nil {
		return nil, err
	}
	code, ok := intArg(given)
	if !ok || code != int64(int32(code)) {
		return nil, unsupportedf("code must be an int32")
	}
	name := subinterp.Status(int32(code)).String()
	if want, err := expectString(e, "name"); err != nil {
		return nil, err
	} else if want != nil && name != *want {
		return nil, failf("name %q, expected %q", name, *want)
	}
	return nil, nil
}
