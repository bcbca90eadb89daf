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

// redirect makes to a copy of from. Dup3: linux/arm64 has no dup2 system call.
func redirect(from, to int) error { return syscall.Dup3(from, to, 0) }
