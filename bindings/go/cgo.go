package subinterp

// The library is found with pkg-config: an installed subinterp.pc, or a
// build tree's subinterp-uninstalled.pc when PKG_CONFIG_PATH names it (that
// one also gives the test binaries an rpath to the library).

/*
#cgo pkg-config: subinterp
*/
import "C"
