package subinterp

// #include "shim.h"
import "C"

import (
	"math"
	"math/big"
	"reflect"
	"sort"
	"unsafe"
)

// Tuple is a Python tuple (a Go []any is a list).
type Tuple []any

// Dict is a Python dict with its entries in insertion order and keys of any
// hashable kind. Dicts always come back from Python as a Dict; a
// map[string]any goes in as a dict with its keys sorted.
type Dict []Item

// Item is one entry of a Dict.
type Item struct {
	Key, Value any
}

// Get returns the value under key (compared with ==) and whether it is there.
func (d Dict) Get(key any) (any, bool) {
	for _, item := range d {
		if hashable(item.Key) && hashable(key) && item.Key == key {
			return item.Value, true
		}
	}
	return nil, false
}

// Map converts a dict with str keys into a map (order is lost); ErrType if a
// key is not a string.
func (d Dict) Map() (map[string]any, error) {
	m := make(map[string]any, len(d))
	for _, item := range d {
		key, ok := item.Key.(string)
		if !ok {
			return nil, errorf(StatusType, "dict key %v is %T, not a string", item.Key, item.Key)
		}
		m[key] = item.Value
	}
	return m, nil
}

// hashable reports whether == can compare v without panicking.
func hashable(v any) bool {
	return v == nil || reflect.TypeOf(v).Comparable()
}

// Pickled is a Python object outside the data model, as pickle bytes
// (protocol 5): it becomes the object again when it enters an interpreter.
type Pickled []byte

// InterpreterID is an interpreter handle as a value (Python receives a
// subinterp.InterpreterID); it does not keep the interpreter alive.
type InterpreterID int64

type unboundMarker struct{}

func (unboundMarker) String() string { return "subinterp.Unbound" }

// Unbound is what Queue.Get returns for an item whose putting interpreter
// was destroyed, under UnboundReplace (PEP 734's UNBOUND marker).
var Unbound any = unboundMarker{}

// data is one owned reference to a C data value.
type data struct {
	ptr *C.subinterp_data
}

func (d *data) free() {
	if d != nil {
		C.subinterp_data_free(d.ptr)
	}
}

// cptr is the C pointer, NULL for a nil *data.
func (d *data) cptr() *C.subinterp_data {
	if d == nil {
		return nil
	}
	return d.ptr
}

// take converts a new reference the library returned into a Go value and
// drops the reference.
func take(ptr *C.subinterp_data) (any, error) {
	d := &data{ptr: ptr}
	defer d.free()
	return d.toGo()
}

// takeList is take for a result the library documents as a list; `what`
// names it in the error if it is not.
func takeList(ptr *C.subinterp_data, what string) ([]any, error) {
	converted, err := take(ptr)
	if err != nil {
		return nil, err
	}
	items, ok := converted.([]any)
	if !ok {
		return nil, errorf(StatusInternal, "%s gave a %T, not a list", what, converted)
	}
	return items, nil
}

// create runs a C constructor shim.
func create(make func(**C.subinterp_data, *C.si_error) C.subinterp_status) (*data, error) {
	var out *C.subinterp_data
	if err := check(func(e *C.si_error) C.subinterp_status { return make(&out, e) }); err != nil {
		return nil, err
	}
	return &data{ptr: out}, nil
}

// newData converts a Go value into portable data (a new reference):
//
//	nil, nil pointers and slices     None
//	bool                              bool
//	all integer types, *big.Int      int (any size)
//	float32, float64                 float
//	string (valid UTF-8)             str
//	[]byte                           bytes
//	Tuple                             tuple
//	[]any and other slices, arrays   list
//	Dict                              dict, in order
//	maps with string or integer keys dict, keys sorted
//	*Buffer, *Queue, InterpreterID    buffer, queue, interpreter
//	Pickled                           the unpickled object
//
// Anything else is ErrType.
func newData(v any) (*data, error) {
	switch x := v.(type) {
	case nil:
		return create(func(o **C.subinterp_data, e *C.si_error) C.subinterp_status { return C.si_data_new_none(o, e) })
	case bool:
		return create(func(o **C.subinterp_data, e *C.si_error) C.subinterp_status {
			return C.si_data_new_bool(cbool(x), o, e)
		})
	case int:
		return newInt(int64(x))
	case int8:
		return newInt(int64(x))
	case int16:
		return newInt(int64(x))
	case int32:
		return newInt(int64(x))
	case int64:
		return newInt(x)
	case uint:
		return newUint(uint64(x))
	case uint8:
		return newInt(int64(x))
	case uint16:
		return newInt(int64(x))
	case uint32:
		return newInt(int64(x))
	case uint64:
		return newUint(x)
	case *big.Int:
		if x == nil {
			return newData(nil)
		}
		return newBigInt(x)
	case float32:
		return newFloat(float64(x))
	case float64:
		return newFloat(x)
	case string:
		return newBytesLike(unsafe.Pointer(unsafe.StringData(x)), len(x), func(p unsafe.Pointer, n C.size_t, o **C.subinterp_data, e *C.si_error) C.subinterp_status {
			return C.si_data_new_str((*C.char)(p), n, o, e)
		})
	case []byte:
		return newBytesLike(unsafe.Pointer(unsafe.SliceData(x)), len(x), func(p unsafe.Pointer, n C.size_t, o **C.subinterp_data, e *C.si_error) C.subinterp_status {
			return C.si_data_new_bytes(p, n, o, e)
		})
	case Pickled:
		return newBytesLike(unsafe.Pointer(unsafe.SliceData(x)), len(x), func(p unsafe.Pointer, n C.size_t, o **C.subinterp_data, e *C.si_error) C.subinterp_status {
			return C.si_data_new_pickled(p, n, o, e)
		})
	case Tuple:
		return newSequence([]any(x), true)
	case []any:
		return newSequence(x, false)
	case Dict:
		return newDict(x)
	case InterpreterID:
		return create(func(o **C.subinterp_data, e *C.si_error) C.subinterp_status {
			return C.si_data_new_interpreter(C.int64_t(x), o, e)
		})
	case *Queue:
		return x.ref("queue")
	case *Buffer:
		return x.ref("buffer")
	}
	return newReflected(reflect.ValueOf(v))
}

func newInt(n int64) (*data, error) {
	return create(func(o **C.subinterp_data, e *C.si_error) C.subinterp_status {
		return C.si_data_new_int(C.int64_t(n), o, e)
	})
}

func newUint(n uint64) (*data, error) {
	if n <= math.MaxInt64 {
		return newInt(int64(n))
	}
	return newBigInt(new(big.Int).SetUint64(n))
}

func newBigInt(n *big.Int) (*data, error) {
	b := bigToBytes(n)
	return create(func(o **C.subinterp_data, e *C.si_error) C.subinterp_status {
		var p unsafe.Pointer
		if len(b) > 0 {
			p = unsafe.Pointer(&b[0])
		}
		return C.si_data_new_int_bytes(p, C.size_t(len(b)), o, e)
	})
}

func newFloat(x float64) (*data, error) {
	return create(func(o **C.subinterp_data, e *C.si_error) C.subinterp_status {
		return C.si_data_new_float(C.double(x), o, e)
	})
}

// newBytesLike passes n bytes at p (Go memory) for the duration of one call:
// the library copies them, so no Go pointer is kept.
func newBytesLike(p unsafe.Pointer, n int, make func(unsafe.Pointer, C.size_t, **C.subinterp_data, *C.si_error) C.subinterp_status) (*data, error) {
	if n == 0 {
		p = nil
	}
	return create(func(o **C.subinterp_data, e *C.si_error) C.subinterp_status {
		return make(p, C.size_t(n), o, e)
	})
}

// convertAll converts values into data, freeing what it made on failure.
func convertAll(values []any) ([]*data, error) {
	out := make([]*data, 0, len(values))
	for _, v := range values {
		d, err := newData(v)
		if err != nil {
			freeAll(out)
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func freeAll(items []*data) {
	for _, d := range items {
		d.free()
	}
}

// pointers is a C array of the items' pointers (C memory: a Go slice of C
// pointers could be passed too, but C memory keeps the rule simple).
func pointers(items []*data) (**C.subinterp_data, func()) {
	if len(items) == 0 {
		return nil, func() {}
	}
	size := C.size_t(len(items)) * C.size_t(unsafe.Sizeof((*C.subinterp_data)(nil)))
	array := (**C.subinterp_data)(C.malloc(size))
	view := unsafe.Slice(array, len(items))
	for i, d := range items {
		view[i] = d.ptr
	}
	return array, func() { C.free(unsafe.Pointer(array)) }
}

func newSequence(values []any, tuple bool) (*data, error) {
	items, err := convertAll(values)
	if err != nil {
		return nil, err
	}
	defer freeAll(items)
	array, release := pointers(items)
	defer release()
	return create(func(o **C.subinterp_data, e *C.si_error) C.subinterp_status {
		if tuple {
			return C.si_data_new_tuple(array, C.size_t(len(items)), o, e)
		}
		return C.si_data_new_list(array, C.size_t(len(items)), o, e)
	})
}

func newDict(dict Dict) (*data, error) {
	keys := make([]any, len(dict))
	values := make([]any, len(dict))
	for i, item := range dict {
		keys[i], values[i] = item.Key, item.Value
	}
	keyData, err := convertAll(keys)
	if err != nil {
		return nil, err
	}
	defer freeAll(keyData)
	valueData, err := convertAll(values)
	if err != nil {
		return nil, err
	}
	defer freeAll(valueData)
	keyArray, releaseKeys := pointers(keyData)
	defer releaseKeys()
	valueArray, releaseValues := pointers(valueData)
	defer releaseValues()
	return create(func(o **C.subinterp_data, e *C.si_error) C.subinterp_status {
		return C.si_data_new_dict(keyArray, valueArray, C.size_t(len(dict)), o, e)
	})
}

// newReflected converts the kinds a type switch cannot list: slices, arrays
// and maps of any element type, named basic types, pointers.
func newReflected(v reflect.Value) (*data, error) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return newData(nil)
		}
		return newData(v.Elem().Interface())
	case reflect.Slice:
		if v.IsNil() {
			return newData(nil)
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return newData(v.Bytes())
		}
		fallthrough
	case reflect.Array:
		items := make([]any, v.Len())
		for i := range items {
			items[i] = v.Index(i).Interface()
		}
		return newData(items)
	case reflect.Map:
		return newData(reflectedDict(v))
	case reflect.Bool:
		return newData(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return newData(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return newData(v.Uint())
	case reflect.Float32, reflect.Float64:
		return newData(v.Float())
	case reflect.String:
		return newData(v.String())
	}
	if !v.IsValid() {
		return newData(nil)
	}
	return nil, errorf(StatusType, "cannot convert a Go %s to portable data", v.Type())
}

// reflectedDict is a map as a Dict, keys sorted when they are strings or
// numbers (else in Go's map order).
func reflectedDict(v reflect.Value) Dict {
	keys := v.MapKeys()
	sort.SliceStable(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		switch a.Kind() {
		case reflect.String:
			return a.String() < b.String()
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return a.Int() < b.Int()
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			return a.Uint() < b.Uint()
		case reflect.Float32, reflect.Float64:
			return a.Float() < b.Float()
		}
		return false
	})
	dict := make(Dict, len(keys))
	for i, k := range keys {
		dict[i] = Item{k.Interface(), v.MapIndex(k).Interface()}
	}
	return dict
}

// toGo converts portable data into Go values:
//
//	None nil · bool bool · int int64, or *big.Int beyond int64 · float float64
//	str string · bytes []byte · tuple Tuple · list []any · dict Dict
//	buffer *Buffer · queue *Queue · interpreter InterpreterID · pickled Pickled
func (d *data) toGo() (any, error) {
	return fromBorrowed(d.ptr)
}

func fromBorrowed(p *C.subinterp_data) (any, error) {
	var result any
	var err error
	switch C.subinterp_data_get_kind(p) {
	case C.SUBINTERP_DATA_NONE:
		return nil, nil
	case C.SUBINTERP_DATA_BOOL:
		var b C.int
		err = check(func(e *C.si_error) C.subinterp_status { return C.si_data_get_bool(p, &b, e) })
		result = b != 0
	case C.SUBINTERP_DATA_INT:
		return readInt(p)
	case C.SUBINTERP_DATA_FLOAT:
		var x C.double
		err = check(func(e *C.si_error) C.subinterp_status { return C.si_data_get_float(p, &x, e) })
		result = float64(x)
	case C.SUBINTERP_DATA_STR:
		var s *C.char
		var n C.size_t
		err = check(func(e *C.si_error) C.subinterp_status { return C.si_data_get_str(p, &s, &n, e) })
		result = C.GoStringN(s, C.int(n))
	case C.SUBINTERP_DATA_BYTES:
		var b unsafe.Pointer
		var n C.size_t
		err = check(func(e *C.si_error) C.subinterp_status { return C.si_data_get_bytes(p, &b, &n, e) })
		result = C.GoBytes(b, C.int(n))
	case C.SUBINTERP_DATA_PICKLED:
		var b unsafe.Pointer
		var n C.size_t
		err = check(func(e *C.si_error) C.subinterp_status { return C.si_data_get_pickled(p, &b, &n, e) })
		result = Pickled(C.GoBytes(b, C.int(n)))
	case C.SUBINTERP_DATA_TUPLE:
		items, err := readItems(p)
		return Tuple(items), err
	case C.SUBINTERP_DATA_LIST:
		return readItems(p)
	case C.SUBINTERP_DATA_DICT:
		return readDict(p)
	case C.SUBINTERP_DATA_BUFFER:
		return bufferOf(p)
	case C.SUBINTERP_DATA_QUEUE:
		return queueOf(p)
	case C.SUBINTERP_DATA_INTERPRETER:
		var id C.int64_t
		err = check(func(e *C.si_error) C.subinterp_status { return C.si_data_get_interpreter(p, &id, e) })
		result = InterpreterID(id)
	default:
		return nil, errorf(StatusType, "unknown data kind %d", int(C.subinterp_data_get_kind(p)))
	}
	if err != nil {
		return nil, err
	}
	return result, nil
}

func readInt(p *C.subinterp_data) (any, error) {
	var n C.int64_t
	var view C.si_error
	status := C.si_data_get_int(p, &n, &view)
	if status == C.SUBINTERP_OK {
		return int64(n), nil
	}
	if err := newError(status, &view); status != C.SUBINTERP_ERR_OVERFLOW {
		return nil, err
	}
	var size C.size_t
	if err := check(func(e *C.si_error) C.subinterp_status { return C.si_data_get_int_bytes(p, nil, 0, &size, e) }); err != nil {
		return nil, err
	}
	b := make([]byte, size)
	err := check(func(e *C.si_error) C.subinterp_status {
		return C.si_data_get_int_bytes(p, unsafe.Pointer(&b[0]), size, &size, e)
	})
	return bytesToBig(b), err
}

func length(p *C.subinterp_data) (int, error) {
	var n C.size_t
	err := check(func(e *C.si_error) C.subinterp_status { return C.si_data_get_len(p, &n, e) })
	return int(n), err
}

func readItems(p *C.subinterp_data) ([]any, error) {
	n, err := length(p)
	if err != nil {
		return nil, err
	}
	items := make([]any, n)
	for i := range items {
		var item *C.subinterp_data
		if err := check(func(e *C.si_error) C.subinterp_status { return C.si_data_get_item(p, C.size_t(i), &item, e) }); err != nil {
			return nil, err
		}
		if items[i], err = fromBorrowed(item); err != nil {
			return nil, err
		}
	}
	return items, nil
}

func readDict(p *C.subinterp_data) (Dict, error) {
	n, err := length(p)
	if err != nil {
		return nil, err
	}
	dict := make(Dict, n)
	for i := range dict {
		var key, value *C.subinterp_data
		err := check(func(e *C.si_error) C.subinterp_status {
			return C.si_data_get_entry(p, C.size_t(i), &key, &value, e)
		})
		if err != nil {
			return nil, err
		}
		if dict[i].Key, err = fromBorrowed(key); err != nil {
			return nil, err
		}
		if dict[i].Value, err = fromBorrowed(value); err != nil {
			return nil, err
		}
	}
	return dict, nil
}

// bigToBytes is n as two's-complement little-endian bytes of minimal length
// (the C ABI's form; empty for 0).
func bigToBytes(n *big.Int) []byte {
	if n.Sign() == 0 {
		return nil
	}
	// For negative n, encode m = -n-1 and invert every byte: ~m == n.
	m := new(big.Int).Set(n)
	negative := n.Sign() < 0
	if negative {
		m.Neg(m).Sub(m, big.NewInt(1))
	}
	be := m.Bytes()
	le := make([]byte, len(be), len(be)+1)
	for i, b := range be {
		le[len(be)-1-i] = b
	}
	if len(le) == 0 || le[len(le)-1]&0x80 != 0 {
		le = append(le, 0)
	}
	if negative {
		for i := range le {
			le[i] = ^le[i]
		}
	}
	return le
}

// bytesToBig reads two's-complement little-endian bytes.
func bytesToBig(le []byte) *big.Int {
	if len(le) == 0 {
		return new(big.Int)
	}
	negative := le[len(le)-1]&0x80 != 0
	be := make([]byte, len(le))
	for i, b := range le {
		if negative {
			b = ^b
		}
		be[len(le)-1-i] = b
	}
	n := new(big.Int).SetBytes(be)
	if negative {
		n.Add(n, big.NewInt(1)).Neg(n)
	}
	return n
}

// ToData checks that a Go value converts into portable data, as it would as
// an argument (see Interpreter.Call); useful to validate input early.
func ToData(v any) error {
	d, err := newData(v)
	d.free()
	return err
}

// Repr is the library's representation of v as portable data, in Python
// syntax (Python's repr() for ASCII text and all numbers).
func Repr(v any) (string, error) {
	d, err := newData(v)
	if err != nil {
		return "", err
	}
	defer d.free()
	var text *C.char
	if err := check(func(e *C.si_error) C.subinterp_status { return C.si_data_repr(d.ptr, &text, e) }); err != nil {
		return "", err
	}
	defer C.subinterp_free(unsafe.Pointer(text))
	return C.GoString(text), nil
}

// RoundTrip converts v into portable data and back: what a Python function
// receiving v would see, in Go terms (no interpreter involved).
func RoundTrip(v any) (any, error) {
	d, err := newData(v)
	if err != nil {
		return nil, err
	}
	defer d.free()
	return d.toGo()
}
