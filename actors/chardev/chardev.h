/* SPDX-License-Identifier: MIT */
/**
 * DOC: character backends
 *
 * Where the bytes of a character device (the 16550 UART) go and come from.
 * A backend lives inside the device actor that uses it and does all its I/O
 * without blocking that actor's thread: descriptors are non-blocking and
 * watched with avm_fd_watch(), or, where a descriptor cannot be made
 * non-blocking without affecting others (stdout, regular files), a writer
 * thread does the blocking writes behind a small pipe. See docs/chardev.md.
 */
#ifndef ACTORVM_CHARDEV_H
#define ACTORVM_CHARDEV_H

#include <stdbool.h>
#include <stddef.h>

/**
 * enum chardev_kind - which backend.
 * @CHARDEV_NULL: output discarded, no input.
 * @CHARDEV_STDIO: output to the process's stdout (through a writer thread,
 *   so stdout's file flags are never touched), input from stdin.
 * @CHARDEV_FILE: output to the file @path (truncated, or appended to with
 *   @append; a FIFO works too, and must have a reader), input from the
 *   optional file @in_path.
 * @CHARDEV_PTY: a new pseudo-terminal; its slave's path is logged (and
 *   symlinked at @path if set). Attach with e.g. `screen /dev/pts/N`.
 * @CHARDEV_NNG: an nng PAIR (v1) socket that listens on or dials @path (a
 *   URL); each nng message carries raw bytes.
 */
enum chardev_kind {
	CHARDEV_NULL = 0,
	CHARDEV_STDIO,
	CHARDEV_FILE,
	CHARDEV_PTY,
	CHARDEV_NNG,
	CHARDEV_KIND_COUNT
};

/**
 * struct chardev_config - a backend. Zero is the null backend.
 * @kind: the backend.
 * @path: FILE: output file (NULL: output discarded); PTY: optional symlink
 *   to the slave; NNG: the URL (inproc://, ipc://, tcp://).
 * @in_path: FILE: optional input file (read to its end, once).
 * @append: FILE: append to @path instead of truncating it.
 * @listen: NNG: listen on the URL (true) or dial it (false; nng retries in
 *   the background until a listener appears).
 * @hold: PTY/NNG: while nobody is attached, keep the output (the guest
 *   waits, see LSR.THRE) instead of discarding it.
 * @no_input: ignore the backend's input (e.g. several devices on stdio).
 */
struct chardev_config {
	enum chardev_kind kind;
	const char *path;
	const char *in_path;
	bool append;
	bool listen;
	bool hold;
	bool no_input;
};

/** chardev_kind_name() - "null", "stdio", "file", "pty", "nng" or NULL. */
const char *chardev_kind_name(enum chardev_kind kind);

#endif /* ACTORVM_CHARDEV_H */
