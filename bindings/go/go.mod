module github.com/subinterp/subinterp/bindings/go

go 1.24
