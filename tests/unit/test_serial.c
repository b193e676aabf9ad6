/* SPDX-License-Identifier: MIT */
/*
 * The serial module on real pseudo-terminal pairs: termios settings, reads, hang-up, open
 * errors. A real UART or USB adapter named in
 * $LINKYD_TEST_SERIAL is checked too (libserialport path); without it that test is skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "linkyd/serial.h"

/*
 * A pty's termios cannot show the 7E1 we ask for: the kernel forces CS8 and clears PARENB
 * (pty_set_termios). So tcsetattr() is wrapped (-Wl,--wrap=tcsetattr) to see what serial.c
 * asked for; the call still goes through.
 */
int __real_tcsetattr(int fd, int action, const struct termios *t);
int __wrap_tcsetattr(int fd, int action, const struct termios *t);

static struct termios requested;
static unsigned n_requested;

int
__wrap_tcsetattr(int fd, int action, const struct termios *t)
{
	requested = *t;
	n_requested++;
	return __real_tcsetattr(fd, action, t);
}

struct pty {
	int master;
	char slave[64];
	struct serial *s;
};

static int
pty_setup(void **state)
{
	struct pty *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(p->master >= 0);
	assert_int_equal(grantpt(p->master), 0);
	assert_int_equal(unlockpt(p->master), 0);
	assert_int_equal(ptsname_r(p->master, p->slave, sizeof(p->slave)), 0);
	*state = p;
	return 0;
}

static int
pty_teardown(void **state)
{
	struct pty *p = *state;

	p->s = serial_free(p->s);
	if (p->master >= 0)
		close(p->master);
	free(p);
	return 0;
}

static void
master_write(struct pty *p, const void *buf, size_t len)
{
	assert_int_equal(write(p->master, buf, len), (ssize_t) len);
}

/* poll() on the serial fd: the revents, 0 on timeout. */
static short
wait_fd(int fd, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	int r = poll(&pfd, 1, timeout_ms);

	assert_true(r >= 0);
	return r ? pfd.revents : 0;
}

/* Read exactly len bytes, waiting up to a second for each chunk. */
static void
read_all(struct serial *s, unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		long n;

		assert_true(wait_fd(serial_fd(s), 1000) & POLLIN);
		n = serial_read(s, buf + got, len - got);
		assert_true(n > 0);
		got += (size_t) n;
	}
}

static void
check_pty_line(struct pty *p, unsigned baud, speed_t speed)
{
	struct termios t;
	int fd;

	n_requested = 0;
	assert_int_equal(serial_open(p->slave, baud, &p->s), 0);
	fd = serial_fd(p->s);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);

	/* What serial.c asked for: 7E1, receiver on, no modem control, no flow control. */
	assert_true(n_requested >= 1);
	assert_int_equal(requested.c_cflag & CSIZE, CS7);
	assert_true(requested.c_cflag & PARENB);
	assert_false(requested.c_cflag & (PARODD | CMSPAR | CSTOPB | CRTSCTS));
	assert_true(requested.c_cflag & CREAD);
	assert_true(requested.c_cflag & CLOCAL);

	/* What the kernel kept: raw, parity errors as NUL, bit 7 left alone (the pty reports CS8,
	 * so ISTRIP stays off), speed, VMIN=1 VTIME=0. */
	assert_int_equal(tcgetattr(fd, &t), 0);
	assert_false(t.c_lflag & (ICANON | ECHO | ECHONL | ISIG | IEXTEN));
	assert_false(t.c_oflag & OPOST);
	assert_false(t.c_iflag & (IGNBRK | BRKINT | IGNPAR | PARMRK | ISTRIP | INLCR | IGNCR |
	                          ICRNL | IXON | IXOFF | IXANY));
	assert_true(t.c_iflag & INPCK);
	assert_false(t.c_cflag & CRTSCTS);
	assert_int_equal(cfgetispeed(&t), speed);
	assert_int_equal(cfgetospeed(&t), speed);
	assert_int_equal(t.c_cc[VMIN], 1);
	assert_int_equal(t.c_cc[VTIME], 0);
}

static void
test_open_1200(void **state)
{
	check_pty_line(*state, 1200, B1200);
}

static void
test_open_9600(void **state)
{
	check_pty_line(*state, 9600, B9600);
}

/* Every byte value crosses unchanged: no ^C/^S/^Q/^V/CR handling, no ISTRIP, no PARMRK. */
static void
test_read_all_bytes(void **state)
{
	struct pty *p = *state;
	unsigned char out[256], in[256 + 1];

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (unsigned char) i;
	assert_int_equal(serial_open(p->slave, 9600, &p->s), 0);
	assert_int_equal(serial_read(p->s, in, sizeof(in)), 0);

	master_write(p, out, sizeof(out));
	read_all(p->s, in, sizeof(out));
	assert_memory_equal(in, out, sizeof(out));
	assert_int_equal(serial_read(p->s, in, sizeof(in)), 0);
	assert_int_equal(serial_read(p->s, in, 0), 0);
}

static void
test_hangup(void **state)
{
	struct pty *p = *state;
	unsigned char buf[16];

	assert_int_equal(serial_open(p->slave, 1200, &p->s), 0);
	assert_int_equal(serial_read(p->s, buf, sizeof(buf)), 0);
	close(p->master);
	p->master = -1;
	assert_true(wait_fd(serial_fd(p->s), 1000) & POLLHUP);
	assert_int_equal(serial_read(p->s, buf, sizeof(buf)), -ENODEV);
	assert_int_equal(serial_read(p->s, buf, sizeof(buf)), -ENODEV);
}

/* Closing the master hangs the slave up; bytes still waiting are dropped (Linux 6.x) or read
 * first, depending on the kernel. Either way -ENODEV follows. */
static void
test_hangup_with_data(void **state)
{
	struct pty *p = *state;
	unsigned char buf[16];
	long n = 0;
	int i;

	assert_int_equal(serial_open(p->slave, 9600, &p->s), 0);
	master_write(p, "abc", 3);
	close(p->master);
	p->master = -1;
	for (i = 0; i < 10; i++) {
		n = serial_read(p->s, buf, sizeof(buf));
		if (n < 0)
			break;
	}
	assert_int_equal(n, -ENODEV);
}

static void
test_set_baud(void **state)
{
	struct pty *p = *state;
	unsigned char buf[8];
	struct termios t;
	int fd;

	assert_int_equal(serial_open(p->slave, 1200, &p->s), 0);
	fd = serial_fd(p->s);
	assert_int_equal(serial_set_baud(p->s, 9600), 0);
	assert_int_equal(tcgetattr(fd, &t), 0);
	assert_int_equal(cfgetispeed(&t), B9600);
	assert_int_equal(cfgetospeed(&t), B9600);
	assert_int_equal(t.c_cc[VMIN], 1);
	assert_true(t.c_iflag & INPCK);
	assert_false(t.c_lflag & ICANON);

	assert_int_equal(serial_set_baud(p->s, 1200), 0);
	assert_int_equal(tcgetattr(fd, &t), 0);
	assert_int_equal(cfgetispeed(&t), B1200);
	assert_int_equal(serial_set_baud(p->s, 4800), -EINVAL);
	assert_int_equal(tcgetattr(fd, &t), 0);
	assert_int_equal(cfgetispeed(&t), B1200);

	master_write(p, "ok", 2);
	read_all(p->s, buf, 2);
	assert_memory_equal(buf, "ok", 2);
}

/* The lowest free fd number, to see that failed opens leave nothing open. */
static int
lowest_free_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	close(fd);
	return fd;
}

static void
test_open_errors(void **state)
{
	char file[] = "/tmp/linkyd-test-serial-XXXXXX";
	struct serial *s = NULL;
	int fd, before;

	(void) state;
	before = lowest_free_fd();
	assert_int_equal(serial_open("/nonexistent/linkyd-tty", 1200, &s), -ENOENT);
	assert_int_equal(serial_open("/dev/linkyd-no-such-tty", 9600, &s), -ENOENT);
	assert_int_equal(serial_open("/dev/null", 1200, &s), -ENOTTY);
	assert_int_equal(serial_open("/tmp", 1200, &s), -ENOTTY);

	fd = mkstemp(file);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\x02\n", 2), 2);
	close(fd);
	assert_int_equal(serial_open(file, 9600, &s), -ENOTTY);
	unlink(file);

	assert_int_equal(serial_open("/dev/null", 4800, &s), -EINVAL);
	assert_null(s); /* ret_serial is written only on success */
	assert_int_equal(lowest_free_fd(), before);
	assert_null(serial_free(NULL));
}

/* root opens anything; as a user, a pty slave made unreadable gives EACCES. */
static void
test_open_eacces(void **state)
{
	struct pty *p = *state;

	if (geteuid() == 0)
		skip();
	assert_int_equal(chmod(p->slave, 0), 0);
	assert_int_equal(serial_open(p->slave, 1200, &p->s), -EACCES);
	assert_null(p->s);
}

static void
test_list_ports(void **state)
{
	char *text = NULL;
	size_t size = 0, lines = 0;
	FILE *out;
	int n;

	(void) state;
	out = open_memstream(&text, &size);
	assert_non_null(out);
	n = serial_list_ports(out);
	assert_int_equal(fclose(out), 0);
	assert_true(n >= 0);
	for (size_t i = 0; i < size; i++)
		lines += text[i] == '\n';
	assert_int_equal(lines, (size_t) n);
	if (n > 0)
		print_message("%s", text);
	free(text);
}

/* A real line through libserialport: here the kernel keeps 7E1 and ISTRIP goes on. */
static void
test_real_device(void **state)
{
	const char *path = getenv("LINKYD_TEST_SERIAL");
	struct serial *s = NULL;
	struct termios t;
	int fd;

	(void) state;
	if (!path || !*path)
		skip();
	assert_int_equal(serial_open(path, 1200, &s), 0);
	fd = serial_fd(s);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(tcgetattr(fd, &t), 0);
	assert_int_equal(t.c_cflag & CSIZE, CS7);
	assert_true(t.c_cflag & PARENB);
	assert_false(t.c_cflag & (PARODD | CSTOPB | CRTSCTS));
	assert_true(t.c_iflag & INPCK);
	assert_true(t.c_iflag & ISTRIP);
	assert_false(t.c_iflag & (IGNPAR | PARMRK | IXON | IXOFF));
	assert_false(t.c_lflag & (ICANON | ECHO | ISIG));
	assert_int_equal(cfgetispeed(&t), B1200);
	assert_int_equal(t.c_cc[VMIN], 1);
	assert_int_equal(t.c_cc[VTIME], 0);
	assert_int_equal(serial_set_baud(s, 9600), 0);
	assert_int_equal(tcgetattr(fd, &t), 0);
	assert_int_equal(cfgetispeed(&t), B9600);
	assert_int_equal(t.c_cflag & CSIZE, CS7);
	assert_true(serial_read(s, &(char){0}, 1) >= 0);
	serial_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_1200, pty_setup, pty_teardown),
	    cmocka_unit_test_setup_teardown(test_open_9600, pty_setup, pty_teardown),
	    cmocka_unit_test_setup_teardown(test_read_all_bytes, pty_setup, pty_teardown),

	    cmocka_unit_test_setup_teardown(test_hangup, pty_setup, pty_teardown),
	    cmocka_unit_test_setup_teardown(test_hangup_with_data, pty_setup, pty_teardown),
	    cmocka_unit_test_setup_teardown(test_set_baud, pty_setup, pty_teardown),
	    cmocka_unit_test(test_open_errors),
	    cmocka_unit_test_setup_teardown(test_open_eacces, pty_setup, pty_teardown),
	    cmocka_unit_test(test_list_ports),
	    cmocka_unit_test(test_real_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
