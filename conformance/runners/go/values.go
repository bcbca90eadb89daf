package main

// Tagged JSON values (docs/conformance.md, "Values") <-> the Go values of the
// binding: building a value from its tagged form, comparing a value with a
// tagged expectation by the suite's equality rules, and rendering a value
// back as tagged JSON for failure details.
//
// The binding's values (see its ToData/FromData docs): nil, bool, int64 or
// *big.Int, float64, string, []byte, Tuple, []any (a list), Dict (ordered
// entries), *Buffer, *Queue, InterpreterID, Pickled; Queue.Get also returns
// the Unbound marker.

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"

	subinterp "github.com/subinterp/subinterp/bindings/go"
)

// kinds are the tags a tagged value may have.
var kinds = []string{
	"none", "bool", "int", "float", "str", "str_utf8", "bytes", "tuple", "list", "dict", "buffer", "pickled",
	"queue", "interpreter",
}

// jsonSafeInt is the largest magnitude a plain JSON integer stands for exactly.
const jsonSafeInt = 1<<53 - 1

// tag is a tagged object's kind and payload: {"kind": payload}, plus
// "readonly" beside a buffer.
func tag(m map[string]any) (string, any, error) {
	var kind string
	var payload any
	count := 0
	for key, value := range m {
		if key == "readonly" && len(m) == 2 {
			if _, isBuffer := m["buffer"]; isBuffer {
				continue
			}
		}
		kind, payload = key, value
		count++
	}
	if count != 1 || !slices.Contains(kinds, kind) {
		return "", nil, unsupportedf("not a tagged value: %s", compact(m))
	}
	return kind, payload, nil
}

// taggedKind is the kind a tagged value (or expectation) names, str_utf8
// counting as str.
func taggedKind(tagged any) (string, error) {
	switch t := tagged.(type) {
	case nil:
		return "none", nil
	case bool:
		return "bool", nil
	case json.Number:
		return "int", nil
	case string:
		return "str", nil
	case map[string]any:
		kind, _, err := tag(t)
		if kind == "str_utf8" {
			kind = "str"
		}
		return kind, err
	}
	return "", unsupportedf("not a tagged value: %s", compact(tagged))
}

// intOf reads an int payload: a JSON integer or a decimal string of any size.
func intOf(payload any) (*big.Int, error) {
	var text string
	switch p := payload.(type) {
	case json.Number:
		text = p.String()
	case string:
		text = p
	default:
		return nil, unsupportedf("not an int: %s", compact(payload))
	}
	if strings.ContainsAny(text, ".eE") {
		return nil, unsupportedf("%s is not an integer (floats are always tagged)", text)
	}
	n, ok := new(big.Int).SetString(text, 10)
	if !ok {
		return nil, unsupportedf("bad int %q", text)
	}
	return n, nil
}

// intValue is an int as the binding gives ints back: int64 when it fits,
// else *big.Int.
func intValue(n *big.Int) any {
	if n.IsInt64() {
		return n.Int64()
	}
	return n
}

// floatOf reads a float payload: a JSON number, or "nan", "inf", "-inf", "-0.0".
func floatOf(payload any) (float64, error) {
	switch p := payload.(type) {
	case json.Number:
		x, err := p.Float64()
		if err != nil {
			return 0, unsupportedf("bad float %s", p)
		}
		return x, nil
	case string:
		switch p {
		case "nan":
			return math.NaN(), nil
		case "inf":
			return math.Inf(1), nil
		case "-inf":
			return math.Inf(-1), nil
		case "-0.0":
			return math.Copysign(0, -1), nil
		}
	}
	return 0, unsupportedf("bad float %s", compact(payload))
}

func hexOf(payload any) ([]byte, error) {
	text, ok := payload.(string)
	if !ok {
		return nil, unsupportedf("not a hex string: %s", compact(payload))
	}
	b, err := hex.DecodeString(text)
	if err != nil {
		return nil, unsupportedf("bad hex %q", text)
	}
	return b, nil
}

// textOf is text given as a JSON string, {"str": s} or {"str_utf8": hex}. A
// Go string holds any bytes, so str_utf8 may be invalid UTF-8 (raw-utf8):
// the binding passes the bytes on and the library judges them.
func textOf(tagged any) (string, error) {
	switch t := tagged.(type) {
	case string:
		return t, nil
	case map[string]any:
		kind, payload, err := tag(t)
		if err != nil {
			return "", err
		}
		switch kind {
		case "str":
			if s, ok := payload.(string); ok {
				return s, nil
			}
		case "str_utf8":
			b, err := hexOf(payload)
			return string(b), err
		}
	}
	return "", unsupportedf("not text: %s", compact(tagged))
}

// build makes the Go value a tagged value stands for. Handles it makes
// (buffers, queues) belong to the step (Case.own). Library errors (a queue
// handle on a queue that does not exist) are the step's outcome.
func (c *Case) build(tagged any) (any, error) {
	switch t := tagged.(type) {
	case nil, bool, string:
		return t, nil
	case json.Number:
		n, err := intOf(t)
		if err != nil {
			return nil, err
		}
		return intValue(n), nil
	case []any:
		return nil, unsupportedf("a bare JSON array is not a tagged value")
	case map[string]any:
		return c.buildTagged(t)
	}
	return nil, unsupportedf("not a tagged value: %s", compact(tagged))
}

func (c *Case) buildItems(kind string, payload any) ([]any, error) {
	tagged, ok := payload.([]any)
	if !ok {
		return nil, unsupportedf("%s needs an array", kind)
	}
	items := make([]any, 0, len(tagged))
	for _, item := range tagged {
		value, err := c.build(item)
		if err != nil {
			return nil, err
		}
		items = append(items, value)
	}
	return items, nil
}

func (c *Case) buildTagged(m map[string]any) (any, error) {
	kind, payload, err := tag(m)
	if err != nil {
		return nil, err
	}
	switch kind {
	case "none":
		return nil, nil
	case "bool":
		b, ok := payload.(bool)
		if !ok {
			return nil, unsupportedf("bool needs true or false")
		}
		return b, nil
	case "int":
		n, err := intOf(payload)
		if err != nil {
			return nil, err
		}
		return intValue(n), nil
	case "float":
		return floatOf(payload)
	case "str", "str_utf8":
		return textOf(m)
	case "bytes":
		return hexOf(payload)
	case "tuple":
		items, err := c.buildItems(kind, payload)
		return subinterp.Tuple(items), err
	case "list":
		return c.buildItems(kind, payload)
	case "dict":
		entries, ok := payload.([]any)
		if !ok {
			return nil, unsupportedf("dict needs an array of pairs")
		}
		dict := make(subinterp.Dict, 0, len(entries))
		for _, entry := range entries {
			pair, ok := entry.([]any)
			if !ok || len(pair) != 2 {
				return nil, unsupportedf("not a dict entry [key, value]: %s", compact(entry))
			}
			key, err := c.build(pair[0])
			if err != nil {
				return nil, err
			}
			value, err := c.build(pair[1])
			if err != nil {
				return nil, err
			}
			dict = append(dict, subinterp.Item{Key: key, Value: value})
		}
		return dict, nil
	case "buffer":
		b, err := hexOf(payload)
		if err != nil {
			return nil, err
		}
		readonly, err := readonlyOf(m)
		if err != nil {
			return nil, err
		}
		// One copy into library memory, shared with Python from then on.
		newBuffer := subinterp.NewBufferFrom
		if readonly != nil && *readonly {
			newBuffer = subinterp.NewReadOnlyBuffer
		}
		buffer, err := newBuffer(b)
		if err != nil {
			return nil, err
		}
		c.own(buffer)
		return buffer, nil
	case "pickled":
		b, err := hexOf(payload)
		return subinterp.Pickled(b), err
	case "queue":
		id, err := c.resolve(payload)
		if err != nil {
			return nil, err
		}
		queue, err := subinterp.QueueFromID(id)
		if err != nil {
			return nil, err
		}
		c.own(queue)
		return queue, nil
	case "interpreter":
		id, err := c.resolve(payload)
		return subinterp.InterpreterID(id), err
	}
	panic("tag() accepts only the kinds")
}

// readonlyOf is a buffer's optional "readonly" flag.
func readonlyOf(m map[string]any) (*bool, error) {
	value, given := m["readonly"]
	if !given {
		return nil, nil
	}
	b, ok := value.(bool)
	if !ok {
		return nil, unsupportedf("readonly must be a bool, got %s", compact(value))
	}
	return &b, nil
}

// kindOf is the portable data kind of a Go value the binding gives back.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "none"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case subinterp.Tuple:
		return "tuple"
	case []any:
		return "list"
	case subinterp.Dict:
		return "dict"
	case *subinterp.Buffer:
		return "buffer"
	case subinterp.Pickled:
		return "pickled"
	case *subinterp.Queue:
		return "queue"
	case subinterp.InterpreterID:
		return "interpreter"
	}
	if v == subinterp.Unbound {
		return "(the Unbound marker)"
	}
	return fmt.Sprintf("(a Go %T, not a value of the data model)", v)
}

// bigOf is an int value (int64 or *big.Int) as a *big.Int.
func bigOf(v any) (*big.Int, bool) {
	switch n := v.(type) {
	case int64:
		return big.NewInt(n), true
	case *big.Int:
		return n, true
	}
	return nil, false
}

// check fails the step unless actual equals the tagged expected.
func (c *Case) check(expected, actual any, what string) error {
	same, err := c.equal(expected, actual)
	if err != nil {
		return err
	}
	if !same {
		return failf("%s: expected %s, got %s", what, compact(expected), render(actual))
	}
	return nil
}

// equal is the suite's equality: same kind and equal contents; NaN equals
// NaN, -0.0 differs from 0.0; 1, 1.0 and True differ; dicts entry by entry
// in order; buffers by contents (and readonly if given); queues and
// interpreters by id.
func (c *Case) equal(expected, actual any) (bool, error) {
	if m, ok := expected.(map[string]any); ok {
		if kind, isAny := m["any"]; isAny {
			name, ok := kind.(string)
			if !ok || len(m) != 1 {
				return false, unsupportedf("\"any\" needs a kind name")
			}
			return kindOf(actual) == name, nil
		}
	}
	kind, err := taggedKind(expected)
	if err != nil {
		return false, err
	}
	if kind != kindOf(actual) {
		return false, nil
	}
	payload := expected
	if m, ok := expected.(map[string]any); ok {
		if _, payload, err = tag(m); err != nil {
			return false, err
		}
	}
	sequence := func(items []any) (bool, error) {
		want, ok := payload.([]any)
		if !ok {
			return false, unsupportedf("%s needs an array", kind)
		}
		if len(want) != len(items) {
			return false, nil
		}
		for i := range want {
			if same, err := c.equal(want[i], items[i]); err != nil || !same {
				return false, err
			}
		}
		return true, nil
	}
	switch a := actual.(type) {
	case nil:
		return true, nil
	case bool:
		b, ok := payload.(bool)
		return ok && b == a, nil
	case int64, *big.Int:
		want, err := intOf(payload)
		if err != nil {
			return false, err
		}
		got, _ := bigOf(a)
		return want.Cmp(got) == 0, nil
	case float64:
		want, err := floatOf(payload)
		if err != nil {
			return false, err
		}
		if math.IsNaN(want) {
			return math.IsNaN(a), nil
		}
		return want == a && math.Signbit(want) == math.Signbit(a), nil
	case string:
		want, err := textOf(expected)
		return want == a, err
	case []byte:
		want, err := hexOf(payload)
		return string(want) == string(a), err
	case subinterp.Tuple:
		return sequence(a)
	case []any:
		return sequence(a)
	case subinterp.Dict:
		want, ok := payload.([]any)
		if !ok {
			return false, unsupportedf("dict needs an array of pairs")
		}
		if len(want) != len(a) {
			return false, nil
		}
		for i, entry := range want {
			pair, ok := entry.([]any)
			if !ok || len(pair) != 2 {
				return false, unsupportedf("not a dict entry [key, value]: %s", compact(entry))
			}
			if same, err := c.equal(pair[0], a[i].Key); err != nil || !same {
				return false, err
			}
			if same, err := c.equal(pair[1], a[i].Value); err != nil || !same {
				return false, err
			}
		}
		return true, nil
	case *subinterp.Buffer:
		readonly, err := readonlyOf(expected.(map[string]any))
		if err != nil {
			return false, err
		}
		if readonly != nil && *readonly != a.ReadOnly() {
			return false, nil
		}
		want, err := hexOf(payload)
		return string(want) == string(a.Bytes()), err
	case *subinterp.Queue:
		want, err := c.resolve(payload)
		return want == a.ID(), err
	case subinterp.InterpreterID:
		want, err := c.resolve(payload)
		return want == int64(a), err
	case subinterp.Pickled:
		want, err := hexOf(payload)
		return string(want) == string(a), err
	}
	return false, nil
}

// render is a value as tagged JSON, for failure details.
func render(v any) string { return compact(toJSON(v)) }

func toJSON(v any) any {
	items := func(values []any) []any {
		out := make([]any, len(values))
		for i, value := range values {
			out[i] = toJSON(value)
		}
		return out
	}
	switch x := v.(type) {
	case nil, bool, string:
		return x
	case int64:
		if -jsonSafeInt <= x && x <= jsonSafeInt {
			return x
		}
		return map[string]any{"int": fmt.Sprint(x)}
	case *big.Int:
		return map[string]any{"int": x.String()}
	case float64:
		switch {
		case math.IsNaN(x):
			return map[string]any{"float": "nan"}
		case math.IsInf(x, 1):
			return map[string]any{"float": "inf"}
		case math.IsInf(x, -1):
			return map[string]any{"float": "-inf"}
		case x == 0 && math.Signbit(x):
			return map[string]any{"float": "-0.0"}
		}
		return map[string]any{"float": x}
	case []byte:
		return map[string]any{"bytes": hex.EncodeToString(x)}
	case subinterp.Tuple:
		return map[string]any{"tuple": items(x)}
	case []any:
		return map[string]any{"list": items(x)}
	case subinterp.Dict:
		entries := make([]any, len(x))
		for i, item := range x {
			entries[i] = []any{toJSON(item.Key), toJSON(item.Value)}
		}
		return map[string]any{"dict": entries}
	case *subinterp.Buffer:
		return map[string]any{"buffer": hex.EncodeToString(x.Bytes()), "readonly": x.ReadOnly()}
	case *subinterp.Queue:
		return map[string]any{"queue": x.ID()}
	case subinterp.InterpreterID:
		return map[string]any{"interpreter": int64(x)}
	case subinterp.Pickled:
		return map[string]any{"pickled": hex.EncodeToString(x)}
	}
	return kindOf(v)
}

// compact is JSON text for details (HTML characters unescaped).
func compact(v any) string {
	var out strings.Builder
	encoder := json.NewEncoder(&out)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(v); err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return strings.TrimSuffix(out.String(), "\n")
}

// handles are the buffers and queues inside a value: each is a reference the
// runner must drop (Close) when it no longer needs the value.
func handles(v any, into []interface{ Close() error }) []interface{ Close() error } {
	switch x := v.(type) {
	case *subinterp.Buffer:
		into = append(into, x)
	case *subinterp.Queue:
		into = append(into, x)
	case subinterp.Tuple:
		for _, item := range x {
			into = handles(item, into)
		}
	case []any:
		for _, item := range x {
			into = handles(item, into)
		}
	case subinterp.Dict:
		for _, item := range x {
			into = handles(item.Value, handles(item.Key, into))
		}
	}
	return into
}
