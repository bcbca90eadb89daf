package subinterp_test

import (
	"reflect"
	"testing"
)

// assertEqual compares with reflect.DeepEqual (so Tuple differs from []any
// and int64 from int), reporting types on failure.
func assertEqual(t testing.TB, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v (%T), want %#v (%T)", got, got, want, want)
	}
}
