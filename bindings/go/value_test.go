package subinterp_test

import (
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"
	"unsafe"

	subinterp "github.com/subinterp/subinterp/bindings/go"
)

// echoInterp has echo (returns its argument) and kind (its type's name).
func echoInterp(t testing.TB) *subinterp.Interpreter {
	interp := newInterp(t)
	mustExec(t, interp, "def echo(x): return x\ndef kind(x): return type(x).__name__")
	return interp
}

func bigInt(t testing.TB, text string) *big.Int {
	n, ok := new(big.Int).SetString(text, 10)
	if !ok {
		t.Fatalf("bad big int %q", text)
	}
	return n
}

func TestEveryKindRoundTripsThroughPython(t *testing.T) {
	interp := echoInterp(t)
	queue := must[*subinterp.Queue](t)(subinterp.NewQueue(subinterp.QueueOptions{}))
	defer queue.Close()
	tests := []struct {
		in, want any
		kind     string
	}{
		{nil, nil, "NoneType"},
		{true, true, "bool"},
		{int64(math.MinInt64), int64(math.MinInt64), "int"},
		{7, int64(7), "int"},
		{uint8(255), int64(255), "int"},
		{uint64(math.MaxUint64), new(big.Int).SetUint64(math.MaxUint64), "int"},
		{bigInt(t, "-123456789012345678901234567890"), bigInt(t, "-123456789012345678901234567890"), "int"},
		{big.NewInt(5), int64(5), "int"},
		{-0.0, math.Copysign(0, -1), "float"},
		{math.Inf(1), math.Inf(1), "float"},
		{float32(0.5), 0.5, "float"},
		{"héllo \x00 wörld ✓ 𝄞", "héllo \x00 wörld ✓ 𝄞", "str"},
		{"", "", "str"},
		{[]byte{0, 255, 10}, []byte{0, 255, 10}, "bytes"},
		{[]byte{}, []byte{}, "bytes"},
		{subinterp.Tuple{}, subinterp.Tuple{}, "tuple"},
		{subinterp.Tuple{1, "a", subinterp.Tuple{2.5, nil}}, subinterp.Tuple{int64(1), "a", subinterp.Tuple{2.5, nil}}, "tuple"},
		{[]any{1, []any{}}, []any{int64(1), []any{}}, "list"},
		{[]string{"x", "y"}, []any{"x", "y"}, "list"},
		{[2]int{3, 4}, []any{int64(3), int64(4)}, "list"},
		{subinterp.Dict{{1, "int key"}, {subinterp.Tuple{1, 2}, "tuple key"}},
			subinterp.Dict{{int64(1), "int key"}, {subinterp.Tuple{int64(1), int64(2)}, "tuple key"}}, "dict"},
		{map[string]any{"b": 2, "a": 1}, subinterp.Dict{{"a", int64(1)}, {"b", int64(2)}}, "dict"},
		{map[int]string{2: "two", 1: "one"}, subinterp.Dict{{int64(1), "one"}, {int64(2), "two"}}, "dict"},
		{subinterp.InterpreterID(12345), subinterp.InterpreterID(12345), "InterpreterID"},
		{(*int)(nil), nil, "NoneType"},
	}
	for _, tt := range tests {
		got, err := interp.Call("echo", tt.in)
		if err != nil {
			t.Errorf("echo(%#v): %v", tt.in, err)
			continue
		}
		assertEqual(t, got, tt.want)
		if kind := must[any](t)(interp.Call("kind", tt.in)); kind != tt.kind {
			t.Errorf("type(%#v) in Python = %v, want %s", tt.in, kind, tt.kind)
		}
	}
	back := must[any](t)(interp.Call("echo", queue))
	if q, ok := back.(*subinterp.Queue); !ok || q.ID() != queue.ID() {
		t.Errorf("queue came back as %#v", back)
	} else {
		q.Close()
	}
}

func TestNaNKeepsItsBits(t *testing.T) {
	interp := echoInterp(t)
	got := must[any](t)(interp.Call("echo", math.NaN())).(float64)
	if math.Float64bits(got) != math.Float64bits(math.NaN()) {
		t.Errorf("NaN bits changed: %x", math.Float64bits(got))
	}
}

func TestBigIntsAreExact(t *testing.T) {
	interp := echoInterp(t)
	mustExec(t, interp, "def double(n): return n * 2")
	n := bigInt(t, "-123456789012345678901234567890123456789012345678901234567890")
	got := must[any](t)(interp.Call("double", n)).(*big.Int)
	if want := new(big.Int).Mul(n, big.NewInt(2)); got.Cmp(want) != 0 {
		t.Errorf("double = %v, want %v", got, want)
	}
	huge := must[any](t)(interp.Call("eval", "2 ** 3962 + 1")).(*big.Int)
	text := must[any](t)(interp.Call("eval", "str(2 ** 3962 + 1)"))
	if huge.String() != text {
		t.Errorf("2**3962+1 = %v", huge)
	}
	// Edges of the two's-complement encoding.
	for _, text := range []string{"127", "128", "-128", "-129", "255", "256", "-32768", "9223372036854775808",
		"-9223372036854775809", "18446744073709551616", "-340282366920938463463374607431768211456"} {
		n := bigInt(t, text)
		if got := must[any](t)(interp.Call("str", n)); got != text {
			t.Errorf("str(%s) in Python = %v", text, got)
		}
		back := must[any](t)(subinterp.RoundTrip(n))
		if b, ok := back.(*big.Int); ok && b.Cmp(n) != 0 || !ok && back != n.Int64() {
			t.Errorf("round trip of %s = %v", text, back)
		}
	}
	assertEqual(t, must[any](t)(interp.Call("eval", "2 ** 63 - 1")), int64(math.MaxInt64))
}

func TestDictHelpers(t *testing.T) {
	d := subinterp.Dict{{"a", 1}, {subinterp.Tuple{1}, 2}, {"c", []any{}}}
	if v, ok := d.Get("a"); !ok || v != 1 {
		t.Errorf("Get(a) = %v %v", v, ok)
	}
	if _, ok := d.Get("zzz"); ok {
		t.Error("Get of a missing key")
	}
	if _, ok := d.Get([]any{}); ok {
		t.Error("Get with an unhashable key")
	}
	if _, err := d.Map(); !errors.Is(err, subinterp.ErrType) {
		t.Errorf("Map with a tuple key: %v", err)
	}
	m := must[map[string]any](t)(subinterp.Dict{{"x", 1}}.Map())
	if m["x"] != 1 {
		t.Errorf("Map = %v", m)
	}
}

func TestConversionErrors(t *testing.T) {
	interp := echoInterp(t)
	type point struct{ X, Y int }
	for name, value := range map[string]any{
		"struct":       point{1, 2},
		"channel":      make(chan int),
		"function":     func() {},
		"nested chan":  []any{1, make(chan int)},
		"complex":      complex(1, 2),
		"dict value":   map[string]any{"k": func() {}},
		"invalid utf8": "\xc3\x28",
	} {
		_, err := interp.Call("echo", value)
		if !errors.Is(err, subinterp.ErrType) && !errors.Is(err, subinterp.ErrInvalidArgument) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Keys Python would merge, duplicate keys, unhashable keys.
	for name, dict := range map[string]subinterp.Dict{
		"1 and 1.0":  {{1, "a"}, {1.0, "b"}},
		"duplicate":  {{"k", nil}, {"k", nil}},
		"unhashable": {{[]any{}, nil}},
	} {
		if _, err := interp.Call("echo", dict); !errors.Is(err, subinterp.ErrInvalidArgument) {
			t.Errorf("%s: %v", name, err)
		}
	}
	deep := any(nil)
	for range 300 {
		deep = []any{deep}
	}
	if _, err := interp.Call("echo", deep); !errors.Is(err, subinterp.ErrInvalidArgument) {
		t.Errorf("300 levels deep: %v", err)
	}
}

func TestRepr(t *testing.T) {
	for _, tt := range []struct {
		value any
		want  string
	}{
		{subinterp.Tuple{1, "a", nil}, "(1, 'a', None)"},
		{[]any{0.5}, "[0.5]"},
		{new(big.Int).Lsh(big.NewInt(1), 100), "1267650600228229401496703205376"},
		{map[string]any{"k": true}, "{'k': True}"},
	} {
		if got := must[string](t)(subinterp.Repr(tt.value)); got != tt.want {
			t.Errorf("Repr(%#v) = %q, want %q", tt.value, got, tt.want)
		}
	}
}

func TestBuffersShareMemoryWithPython(t *testing.T) {
	interp := echoInterp(t)
	buffer := must[*subinterp.Buffer](t)(subinterp.NewBufferFrom([]byte("abcd")))
	defer buffer.Close()
	mustExec(t, interp, "def fill(view, byte):\n    view[:] = bytes([byte]) * len(view)\n    return len(view)")
	assertEqual(t, must[any](t)(interp.Call("fill", buffer, 7)), int64(4))
	assertEqual(t, buffer.Bytes(), []byte{7, 7, 7, 7})
	copy(buffer.Bytes(), "wxyz")
	assertEqual(t, must[any](t)(interp.Call("bytes", buffer)), []byte("wxyz"))
	assertEqual(t, must[any](t)(interp.Call("kind", buffer)), "memoryview")
	back := must[any](t)(interp.Call("echo", buffer)).(*subinterp.Buffer)
	defer back.Close()
	if unsafe.SliceData(back.Bytes()) != unsafe.SliceData(buffer.Bytes()) || back.ReadOnly() {
		t.Error("the buffer came back as other memory")
	}
	zeros := must[*subinterp.Buffer](t)(subinterp.NewBuffer(3))
	assertEqual(t, must[any](t)(interp.Call("bytes", zeros)), []byte{0, 0, 0})
	zeros.Close()
	if _, err := interp.Call("len", zeros); !errors.Is(err, subinterp.ErrInvalidArgument) {
		t.Errorf("closed buffer: %v", err)
	}
	empty := must[*subinterp.Buffer](t)(subinterp.NewBuffer(0))
	defer empty.Close()
	assertEqual(t, must[any](t)(interp.Call("len", empty)), int64(0))
	if _, err := subinterp.NewBuffer(-1); !errors.Is(err, subinterp.ErrInvalidArgument) {
		t.Errorf("negative size: %v", err)
	}
}

func TestReadOnlyViewsFromPython(t *testing.T) {
	interp := echoInterp(t)
	buffer := must[any](t)(interp.Call("eval", "memoryview(b'abc')")).(*subinterp.Buffer)
	defer buffer.Close()
	if !buffer.ReadOnly() || string(buffer.Bytes()) != "abc" || buffer.Len() != 3 {
		t.Errorf("view of bytes: %v %q", buffer.ReadOnly(), buffer.Bytes())
	}
	mustExec(t, interp, "def poke(view): view[0] = 0")
	var pyErr *subinterp.PythonError
	if _, err := interp.Call("poke", buffer); !errors.As(err, &pyErr) || pyErr.Qualname != "TypeError" {
		t.Errorf("writing a read-only view: %v", err)
	}
}

func TestErrorMessages(t *testing.T) {
	err := subinterp.ToData(struct{}{})
	if !errors.Is(err, subinterp.ErrType) || !strings.Contains(err.Error(), "struct {}") {
		t.Errorf("ToData(struct{}{}) = %v", err)
	}
	var e *subinterp.Error
	if !errors.As(err, &e) || e.Status != subinterp.StatusType {
		t.Errorf("errors.As *Error: %v", err)
	}
}

func TestReadOnlyBuffers(t *testing.T) {
	interp := echoInterp(t)
	buffer := must[*subinterp.Buffer](t)(subinterp.NewReadOnlyBuffer([]byte("frozen")))
	defer buffer.Close()
	if !buffer.ReadOnly() || string(buffer.Bytes()) != "frozen" {
		t.Errorf("read-only buffer: %v %q", buffer.ReadOnly(), buffer.Bytes())
	}
	mustExec(t, interp, "def poke(view): view[0] = 0")
	var pyErr *subinterp.PythonError
	if _, err := interp.Call("poke", buffer); !errors.As(err, &pyErr) || pyErr.Qualname != "TypeError" {
		t.Errorf("writing a read-only buffer from Python: %v", err)
	}
	assertEqual(t, must[any](t)(interp.Call("bytes", buffer)), []byte("frozen"))
	empty := must[*subinterp.Buffer](t)(subinterp.NewReadOnlyBuffer(nil))
	defer empty.Close()
	assertEqual(t, must[any](t)(interp.Call("len", empty)), int64(0))
}
