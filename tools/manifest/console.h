/* SPDX-License-Identifier: MIT */
/**
 * DOC: console - several VMs' serial output on one terminal
 *
 * A "console" actor takes the bytes a UART transmits (its "tx" mirror port,
 * %AVM_MSG_CHAR) and writes them to a file descriptor line by line, each
 * line prefixed with its VM's name and written with one write(2), so the
 * lines of two VMs never mix. `actorvm run` gives each VM one when a
 * manifest has several VMs on stdout. Its own thread does the writing: a
 * slow terminal delays the console, never the UART or the VCPU.
 */
#ifndef MF_CONSOLE_H
#define MF_CONSOLE_H

#include <actorvm/actor.h>

/** struct console_config - the prefix ("ping") and where lines go. */
struct console_config {
	const char *prefix;
	int fd;
};

extern const struct avm_device_ops console_ops;

#endif /* MF_CONSOLE_H */
