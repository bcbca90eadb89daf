package subinterp_test

import (
	"encoding/binary"
	"errors"
	"math"
	"math/big"
	"reflect"
	"sort"
	"testing"
	"unicode/utf8"

	subinterp "github.com/subinterp/subinterp/bindings/go"
)

// generator turns fuzz bytes into a Go value and the value it must come
// back as from portable data (want).
type generator struct {
	in []byte
}

func (g *generator) byte() byte {
	if len(g.in) == 0 {
		return 0
	}
	b := g.in[0]
	g.in = g.in[1:]
	return b
}

func (g *generator) bytes(n int) []byte {
	n = min(n, len(g.in))
	b := append([]byte{}, g.in[:n]...)
	g.in = g.in[n:]
	return b
}

func (g *generator) value(depth int) (in, want any) {
	op := g.byte() % 10
	if depth > 4 && op >= 6 {
		op %= 6
	}
	switch op {
	case 0:
		return nil, nil
	case 1:
		b := g.byte()%2 == 1
		return b, b
	case 2:
		var raw [8]byte
		copy(raw[:], g.bytes(8))
		n := int64(binary.LittleEndian.Uint64(raw[:]))
		return n, n
	case 3:
		var raw [8]byte
		copy(raw[:], g.bytes(8))
		x := math.Float64frombits(binary.LittleEndian.Uint64(raw[:]))
		return x, x
	case 4:
		s := string(g.bytes(int(g.byte() % 16)))
		return s, s
	case 5:
		b := g.bytes(int(g.byte() % 16))
		return b, b
	case 6, 7:
		n := int(g.byte() % 4)
		in, want := make([]any, n), make([]any, n)
		for i := range in {
			in[i], want[i] = g.value(depth + 1)
		}
		if op == 6 {
			return subinterp.Tuple(in), subinterp.Tuple(want)
		}
		return in, want
	case 8:
		m := map[string]any{}
		wants := map[string]any{}
		for range int(g.byte() % 4) {
			key := string(g.bytes(int(g.byte() % 4)))
			m[key], wants[key] = g.value(depth + 1)
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		want := subinterp.Dict{}
		for _, k := range keys {
			want = append(want, subinterp.Item{Key: k, Value: wants[k]})
		}
		return m, want
	default:
		n := new(big.Int).SetBytes(g.bytes(int(g.byte() % 24)))
		if g.byte()%2 == 1 {
			n.Neg(n)
		}
		if n.IsInt64() {
			return n, n.Int64()
		}
		return n, n
	}
}

// validText reports whether every string in v (keys included) is UTF-8.
func validText(v any) bool {
	switch x := v.(type) {
	case string:
		return utf8.ValidString(x)
	case subinterp.Tuple:
		return validText([]any(x))
	case []any:
		for _, item := range x {
			if !validText(item) {
				return false
			}
		}
	case map[string]any:
		for k, item := range x {
			if !utf8.ValidString(k) || !validText(item) {
				return false
			}
		}
	}
	return true
}

// same is DeepEqual with floats compared by bits (NaN == NaN) and big ints by value.
func same(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case *big.Int:
		y, ok := b.(*big.Int)
		return ok && x.Cmp(y) == 0
	case subinterp.Tuple:
		y, ok := b.(subinterp.Tuple)
		return ok && sameItems(x, y)
	case []any:
		y, ok := b.([]any)
		return ok && sameItems(x, y)
	case subinterp.Dict:
		y, ok := b.(subinterp.Dict)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !same(x[i].Key, y[i].Key) || !same(x[i].Value, y[i].Value) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func sameItems(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !same(a[i], b[i]) {
			return false
		}
	}
	return true
}

// FuzzRoundTrip converts generated Go values to portable data and back: the
// result equals the expected form exactly, or the library refuses invalid
// UTF-8 with ErrInvalidArgument; nothing else, and never a crash.
func FuzzRoundTrip(f *testing.F) {
	for _, seed := range [][]byte{
		{}, {0}, {1, 1}, {2, 1, 2, 3, 4, 5, 6, 7, 0x80}, {3, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f},
		{4, 3, 'a', 'b', 'c'}, {4, 2, 0xc3, 0x28}, {5, 2, 0, 255}, {6, 3, 0, 1, 1, 2, 0},
		{7, 2, 7, 1, 0, 6, 0}, {8, 2, 1, 'k', 2, 5, 1, 'j', 0}, {9, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 1},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &generator{in: data}
		in, want := g.value(0)
		got, err := subinterp.RoundTrip(in)
		if !validText(in) {
			if !errors.Is(err, subinterp.ErrInvalidArgument) {
				t.Fatalf("invalid UTF-8 in %#v: got %#v, %v", in, got, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("RoundTrip(%#v): %v", in, err)
		}
		if !same(got, want) {
			t.Fatalf("RoundTrip(%#v) = %#v, want %#v", in, got, want)
		}
	})
}
