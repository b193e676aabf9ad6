/* SPDX-License-Identifier: MIT */
/*
 * The TIC serial line: 7E1, raw, non-blocking, close-on-exec. UARTs and USB adapters are opened
 * with libserialport (the only includer of <libserialport.h>); what it refuses, mainly the
 * pseudo-terminals of socat and ser2net, with open() and termios. Never logs. At the end, the
 * line as a meter's source (linkyd/source.h).
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <libserialport.h>

#include "linkyd/loop.h"
#include "linkyd/serial.h"
#include "linkyd/source.h"

struct serial {
	int fd;
	struct sp_port *port; /* NULL when opened through termios; then fd is ours to close */
};

static int
speed_of(unsigned baud, speed_t *ret_speed)
{
	switch (baud) {
	case 1200:
		*ret_speed = B1200;
		return 0;
	case 9600:
		*ret_speed = B9600;
		return 0;
	default:
		return -EINVAL;
	}
}

/* libserialport's codes as -errno; SP_ERR_FAIL carries the errno of the call that failed. */
static int
sp_errno(enum sp_return r)
{
	int e;

	switch (r) {
	case SP_OK:
		return 0;
	case SP_ERR_FAIL:
		e = sp_last_error_code();
		return e > 0 ? -e : -EIO;
	case SP_ERR_MEM:
		return -ENOMEM;
	case SP_ERR_SUPP:
		return -ENOTSUP;
	case SP_ERR_ARG:
	default:
		return -EINVAL;
	}
}

/*
 * Raw 7E1 at speed, VMIN=1 VTIME=0, on a line opened by either path. libserialport has no
 * knob for INPCK, ISTRIP or VMIN, and leaves VMIN at 0, with which an empty non-blocking read
 * returns 0 (n_tty only says EAGAIN when VMIN > 0) and looks like a hang-up.
 *
 * Parity. INPCK makes a UART's parity and framing errors arrive as NUL, a control byte the
 * parser drops the group for (IGNPAR would drop the byte silently and leave it to the
 * checksum; PARMRK would insert 0xFF 0x00 marks). ISTRIP depends on what the line kept: a
 * line that is really 7 bits wide (the kernel kept CS7) checked parity itself and bit 7 of
 * what it delivers means nothing (some USB adapters put the parity bit or junk there), so it
 * is stripped and the parser gets clean 7-bit ASCII. A pty has no wire: the kernel forces CS8
 * and drops PARENB (pty_set_termios), checks nothing, and hands over the bytes as written,
 * e.g. by a socat that reads a UART opened 8N1 and so forwards the parity bit in bit 7; there
 * bit 7 is left alone for the parser, which accepts an 8-bit byte only when it has even parity
 * (see src/tic/parser.c). Clean 7-bit input goes through either way.
 */
/*
 * tcsetattr() for a line that may be a pty. glibc 2.36 reads the settings back and reports
 * EINVAL when they differ from the request; a pty always forces CS8 and drops PARENB, so asking
 * it again for 7E1 "fails" although everything it can take was applied. Accept that case.
 */
static int
set_termios(int fd, const struct termios *want)
{
	const tcflag_t wire = CSIZE | PARENB;
	struct termios now;

	if (tcsetattr(fd, TCSANOW, want) == 0)
		return 0;
	if (errno != EINVAL)
		return -errno;
	if (tcgetattr(fd, &now) < 0)
		return -errno;
	if (now.c_iflag != want->c_iflag || (now.c_cflag & ~wire) != (want->c_cflag & ~wire) ||
	    now.c_lflag != want->c_lflag || now.c_cc[VMIN] != want->c_cc[VMIN] ||
	    now.c_cc[VTIME] != want->c_cc[VTIME] || cfgetispeed(&now) != cfgetispeed(want))
		return -EINVAL;
	return 0;
}

static int
setup_line(int fd, speed_t speed)
{
	struct termios t;
	int flags, r;

	if (tcgetattr(fd, &t) < 0)
		return -errno; /* ENOTTY: /dev/null, a regular file, a directory */
	cfmakeraw(&t);
	t.c_iflag &= ~(IGNPAR | PARMRK | ISTRIP | IXON | IXOFF | IXANY);
	t.c_iflag |= INPCK;
	t.c_cflag &= ~(CSIZE | PARODD | CMSPAR | CSTOPB | CRTSCTS);
	t.c_cflag |= CS7 | PARENB | CREAD | CLOCAL;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (cfsetispeed(&t, speed) < 0 || cfsetospeed(&t, speed) < 0)
		return -errno;
	r = set_termios(fd, &t);
	if (r < 0)
		return r;

	if (tcgetattr(fd, &t) < 0)
		return -errno;
	if ((t.c_cflag & CSIZE) == CS7) {
		t.c_iflag |= ISTRIP;
		r = set_termios(fd, &t);
		if (r < 0)
			return r;
	}

	/* libserialport opens without O_CLOEXEC; nothing in linkyd forks, so setting it now is
	 * early enough. */
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	flags = fcntl(fd, F_GETFD);
	if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

/* Open and configure through libserialport; any failure sends the caller to open_tty(). */
static int
open_sp(struct serial *s, const char *path, unsigned baud)
{
	struct sp_port *port;
	struct sp_port_config *config;
	enum sp_return r;

	/* Refuses ptys, /dev/null and missing paths alike (SP_ERR_ARG, no usable errno), so the
	 * reason is left for open_tty() to find. */
	r = sp_get_port_by_name(path, &port);
	if (r != SP_OK)
		return sp_errno(r);
	r = sp_open(port, SP_MODE_READ);
	if (r != SP_OK)
		goto out_free_port;
	r = sp_new_config(&config);
	if (r != SP_OK)
		goto out_close_port;
	/* RTS and DTR stay as the driver left them (asserted after open): some TIC adapters
	 * draw their power from them. */
	if ((r = sp_set_config_baudrate(config, (int) baud)) != SP_OK ||
	    (r = sp_set_config_bits(config, 7)) != SP_OK ||
	    (r = sp_set_config_parity(config, SP_PARITY_EVEN)) != SP_OK ||
	    (r = sp_set_config_stopbits(config, 1)) != SP_OK ||
	    (r = sp_set_config_flowcontrol(config, SP_FLOWCONTROL_NONE)) != SP_OK ||
	    (r = sp_set_config(port, config)) != SP_OK ||
	    (r = sp_get_port_handle(port, &s->fd)) != SP_OK)
		goto out_free_config;
	sp_free_config(config);
	s->port = port;
	return 0;

out_free_config:
	sp_free_config(config);
out_close_port:
	(void) sp_close(port);
out_free_port:
	sp_free_port(port);
	return sp_errno(r);
}

static int
open_tty(struct serial *s, const char *path)
{
	/* O_NONBLOCK also keeps open() from waiting for carrier on a line without CLOCAL. */
	int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	s->fd = fd;
	return 0;
}

static void
close_line(struct serial *s)
{
	if (s->port) {
		(void) sp_close(s->port);
		sp_free_port(s->port);
		s->port = NULL;
	} else if (s->fd >= 0) {
		(void) close(s->fd);
	}
	s->fd = -1;
}

int
serial_open(const char *path, unsigned baud, struct serial **ret_serial)
{
	struct serial *s;
	speed_t speed;
	int r;

	assert(path && ret_serial);
	r = speed_of(baud, &speed);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = -1;

	/* libserialport first, for real UARTs; when it says no, whatever the reason, open() and
	 * termios either succeed (ptys) or give the precise errno (ENOENT, EACCES, ENOTTY). */
	if (open_sp(s, path, baud) < 0) {
		r = open_tty(s, path);
		if (r < 0)
			goto out_free;
	}
	r = setup_line(s->fd, speed);
	if (r < 0)
		goto out_close;
	*ret_serial = s;
	return 0;

out_close:
	close_line(s);
out_free:
	free(s);
	return r;
}

int
serial_fd(const struct serial *s)
{
	assert(s);
	return s->fd;
}

/* termios on both paths: libserialport keeps no copy of the settings (each sp_set_* re-reads
 * them), so changing the speed under it is safe, and only the speed changes. */
int
serial_set_baud(struct serial *s, unsigned baud)
{
	struct termios t;
	speed_t speed;
	int r;

	assert(s);
	r = speed_of(baud, &speed);
	if (r < 0)
		return r;
	if (tcgetattr(s->fd, &t) < 0)
		return -errno;
	if (cfsetispeed(&t, speed) < 0 || cfsetospeed(&t, speed) < 0)
		return -errno;
	return set_termios(s->fd, &t);
}

long
serial_read(struct serial *s, void *buf, size_t size)
{
	ssize_t n;

	assert(s && buf);
	if (size == 0)
		return 0; /* read() would return 0, which here means a hang-up */
	if (size > SSIZE_MAX)
		size = SSIZE_MAX;
	do
		n = read(s->fd, buf, size);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		return (long) n;
	/* A hung-up tty reads 0: an unplugged USB adapter, or a pty slave whose master closed
	 * (pty_close() hangs it up). Vanishing devices and ttys whose other end closed say EIO,
	 * ENODEV or ENXIO. With VMIN >= 1 an empty line says EAGAIN, never 0. */
	if (n == 0)
		return -ENODEV;
	switch (errno) {
	case EAGAIN:
		return 0;
	case EIO:
	case ENODEV:
	case ENXIO:
		return -ENODEV;
	default:
		return -errno;
	}
}

struct serial *
serial_free(struct serial *s)
{
	if (!s)
		return NULL;
	close_line(s);
	free(s);
	return NULL;
}

static void
print_port(FILE *out, const struct sp_port *port)
{
	const char *name = sp_get_port_name(port);
	const char *desc = sp_get_port_description(port);
	const char *manufacturer, *product, *serial, *mac;
	int vid, pid;

	if (!desc)
		desc = "";
	switch (sp_get_port_transport(port)) {
	case SP_TRANSPORT_USB:
		manufacturer = sp_get_port_usb_manufacturer(port);
		product = sp_get_port_usb_product(port);
		serial = sp_get_port_usb_serial(port);
		fprintf(out, "%s  USB  %s (", name, desc);
		if (manufacturer && *manufacturer)
			fprintf(out, "%s, ", manufacturer);
		/* The description usually is the product string already. */
		if (product && *product && strcmp(product, desc) != 0)
			fprintf(out, "%s, ", product);
		if (sp_get_port_usb_vid_pid(port, &vid, &pid) == SP_OK)
			fprintf(out, "%04x:%04x", (unsigned) vid, (unsigned) pid);
		else
			fputs("?:?", out);
		if (serial && *serial)
			fprintf(out, ", serial %s", serial);
		fputs(")\n", out);
		break;
	case SP_TRANSPORT_BLUETOOTH:
		mac = sp_get_port_bluetooth_address(port);
		fprintf(out, "%s  Bluetooth  %s (%s)\n", name, desc, mac ? mac : "?");
		break;
	case SP_TRANSPORT_NATIVE:
	default:
		fprintf(out, "%s  native  %s\n", name, desc);
		break;
	}
}

int
serial_list_ports(FILE *out)
{
	struct sp_port **ports;
	enum sp_return r;
	int n;

	assert(out);
	r = sp_list_ports(&ports);
	if (r != SP_OK)
		return sp_errno(r);
	for (n = 0; ports[n]; n++)
		print_port(out, ports[n]);
	sp_free_port_list(ports);
	return ferror(out) ? -EIO : n;
}

/* ---- The serial line as a meter's source ------------------------------------------------------
 */

struct serial_source {
	struct source source;
	struct serial *line; /* NULL while closed */
	char *path;
};

static struct serial_source *
serial_source_of(const struct source *s)
{
	return container_of(s, struct serial_source, source);
}

static int
source_open(struct source *s, unsigned baud)
{
	struct serial_source *ss = serial_source_of(s);

	assert(!ss->line);
	return serial_open(ss->path, baud, &ss->line);
}

static int
source_fd(const struct source *s)
{
	return serial_fd(serial_source_of(s)->line);
}

static long
source_read(struct source *s, void *buf, size_t size)
{
	return serial_read(serial_source_of(s)->line, buf, size);
}

static int
source_set_speed(struct source *s, unsigned baud)
{
	return serial_set_baud(serial_source_of(s)->line, baud);
}

static void
source_close(struct source *s)
{
	struct serial_source *ss = serial_source_of(s);

	ss->line = serial_free(ss->line);
}

static void
source_free_serial(struct source *s)
{
	struct serial_source *ss = serial_source_of(s);

	source_close(s);
	free(ss->path);
	free(ss);
}

static const struct source_ops serial_ops = {
    .open = source_open,
    .fd = source_fd,
    .read = source_read,
    .set_speed = source_set_speed,
    .close = source_close,
    .free = source_free_serial,
};

int
source_serial_new(const struct meter_config *m, struct source **ret)
{
	struct serial_source *ss = calloc(1, sizeof(*ss));

	if (!ss)
		return -ENOMEM;
	ss->path = strdup(m->input.path);
	if (!ss->path) {
		free(ss);
		return -ENOMEM;
	}
	ss->source = (struct source){.ops = &serial_ops, .name = ss->path};
	*ret = &ss->source;
	return 0;
}
