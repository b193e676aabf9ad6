/* SPDX-License-Identifier: MIT */
/* placeholder while serial.c is being written */
#include <errno.h>

#include "linkyd/serial.h"

int
serial_open(const char *path, unsigned baud, struct serial **ret_serial)
{
	(void) path, (void) baud, (void) ret_serial;
	return -ENOSYS;
}

int
serial_fd(const struct serial *s)
{
	(void) s;
	return -1;
}

int
serial_set_baud(struct serial *s, unsigned baud)
{
	(void) s, (void) baud;
	return -ENOSYS;
}

int
serial_set_batch(struct serial *s, size_t n)
{
	(void) s, (void) n;
	return -ENOSYS;
}

long
serial_read(struct serial *s, void *buf, size_t size)
{
	(void) s, (void) buf, (void) size;
	return -ENOSYS;
}

struct serial *
serial_free(struct serial *s)
{
	(void) s;
	return NULL;
}

int
serial_list_ports(FILE *out)
{
	(void) out;
	return -ENOSYS;
}
