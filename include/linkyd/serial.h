/* SPDX-License-Identifier: MIT */
/*
 * A TIC serial line, 7E1 at 1200 or 9600 Bd, opened non-blocking for the event loop. Real
 * UARTs and USB adapters go through libserialport; pseudo-terminals (socat, ser2net), which
 * libserialport refuses, through open() and termios. This module never logs.
 */
#ifndef LINKYD_SERIAL_H
#define LINKYD_SERIAL_H

#include <stddef.h>
#include <stdio.h>

struct serial;

/* Open path at baud (1200 or 9600), 7 data bits, even parity, 1 stop bit, no flow control,
 * raw, O_NONBLOCK and close-on-exec. Returns 0 or -errno (-ENOENT: no such device, -EACCES:
 * permission, -ENOTTY: not a serial line). */
int serial_open(const char *path, unsigned baud, struct serial **ret_serial);

/* The fd to watch for EPOLLIN; owned by the serial object. */
int serial_fd(const struct serial *s);

/* Change the speed of an open line (auto-detection). Returns 0 or -errno. */
int serial_set_baud(struct serial *s, unsigned baud);

/* Read what is waiting, up to size bytes. Returns the count, 0 if nothing is waiting, or
 * -errno; -ENODEV when the device is gone (unplugged, pty closed). */
long serial_read(struct serial *s, void *buf, size_t size);

/* Close and free; NULL-safe; returns NULL. */
struct serial *serial_free(struct serial *s);

/* Print the serial ports libserialport knows, with USB descriptions, one per line.
 * Returns the number of ports or -errno. */
int serial_list_ports(FILE *out);

#endif
