/* SPDX-License-Identifier: MIT */
/*
 * The broker password, read from its file where it is used (mqtt_new()), so that it lives in
 * memory only as long as the client that sends it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linkyd/mqtt.h"

static int
fail(int r, char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
	return r;
}

/* Read at most MQTT_PASSWORD_MAX + 1 bytes of fd into buf: one more than a password may have, to
 * tell a file that is too long. Returns the length or -errno. */
static ssize_t
read_some(int fd, char *buf)
{
	size_t len = 0;

	while (len < MQTT_PASSWORD_MAX + 1) {
		ssize_t n = read(fd, buf + len, MQTT_PASSWORD_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t) n;
	}
	return (ssize_t) len;
}

int
mqtt_password_load(const char *path, char **ret_password, char *err, size_t err_size)
{
	struct stat st;
	ssize_t n;
	size_t len;
	char *buf;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fail(-errno, err, err_size, "'%s': %s", path, strerror(errno));
	/* fstat the open file, so that what was checked is what gets read. */
	if (fstat(fd, &st) < 0) {
		r = fail(-errno, err, err_size, "'%s': %s", path, strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		r = fail(-EINVAL, err, err_size, "'%s': expected a regular file", path);
		goto out_close;
	}
	/* A password others can read or replace is not a secret. */
	if (st.st_mode & 077) {
		r = fail(-EPERM, err, err_size,
		         "'%s' has mode %04o: expected no access for group and others (chmod 600)",
		         path, (unsigned) (st.st_mode & 07777));
		goto out_close;
	}
	buf = malloc(MQTT_PASSWORD_MAX + 2);
	if (!buf) {
		r = fail(-ENOMEM, err, err_size, "'%s': out of memory", path);
		goto out_close;
	}
	n = read_some(fd, buf);
	if (n < 0) {
		r = fail((int) n, err, err_size, "'%s': %s", path, strerror((int) -n));
		goto out_free_buf;
	}
	len = (size_t) n;
	/* One line, as "echo secret > file" writes it. */
	if (len && buf[len - 1] == '\n')
		len--;
	if (len && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	if (len > MQTT_PASSWORD_MAX)
		r = fail(-EINVAL, err, err_size, "'%s': expected at most %d bytes", path,
		         MQTT_PASSWORD_MAX);
	else if (len == 0)
		r = fail(-EINVAL, err, err_size, "'%s' is empty: expected the password", path);
	else if (strlen(buf) != len || strpbrk(buf, "\r\n"))
		r = fail(-EINVAL, err, err_size, "'%s': expected the password alone on one line",
		         path);
	else
		r = 0;
	if (r < 0)
		goto out_free_buf;
	*ret_password = buf;
	(void) close(fd);
	return 0;

out_free_buf:
	explicit_bzero(buf, MQTT_PASSWORD_MAX + 2);
	free(buf);
out_close:
	(void) close(fd);
	return r;
}
