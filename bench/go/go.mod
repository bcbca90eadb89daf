module github.com/subinterp/subinterp/bench/go

go 1.24

require github.com/subinterp/subinterp/bindings/go v0.0.0

replace github.com/subinterp/subinterp/bindings/go => ../../bindings/go
