//go:build unix && !linux

package main

import "syscall"

// dupCloseOnExec duplicates fd (close-on-exec: children do not inherit it).
func dupCloseOnExec(fd int) (int, error) {
	copied, err := syscall.Dup(fd)
	if err == nil {
		syscall.CloseOnExec(copied)
	}
	return copied, err
}

// redirect makes to a copy of from.
func redirect(from, to int) error { return syscall.Dup2(from, to) }
