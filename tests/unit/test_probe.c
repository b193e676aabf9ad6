/* SPDX-License-Identifier: MIT */
/*
 * The connection probe (src/mqtt/probe.c) against real sockets on 127.0.0.1: a listener, a
 * closed port; and the host:port split it is given.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/mqtt/probe.h"

/* A listening socket on 127.0.0.1 (listening or not); its port in ret_port. */
static int
socket_on_loopback(bool listening, char ret_port[8])
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	if (listening)
		assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
	snprintf(ret_port, 8, "%u", ntohs(sa.sin_port));
	return fd;
}

static void
test_accepted(void **state)
{
	struct probe_result r;
	char port[8];
	int fd = socket_on_loopback(true, port);
	(void) state;

	probe_tcp("127.0.0.1", port, 1000, &r);
	assert_true(r.accepted);
	close(fd);
}

static void
test_refused(void **state)
{
	struct probe_result r;
	char port[8];
	/* Bound, not listening: the port is ours and nobody accepts on it. */
	int fd = socket_on_loopback(false, port);
	(void) state;

	probe_tcp("127.0.0.1", port, 1000, &r);
	assert_false(r.accepted);
	assert_int_equal(r.failure, BACKEND_FAIL_REFUSED);
	assert_int_equal(r.code, ECONNREFUSED);
	close(fd);
}

static void
test_split(void **state)
{
	static const struct {
		const char *in, *host, *port;
	} ok[] = {{"127.0.0.1:1883", "127.0.0.1", "1883"},
	          {"broker.lan:8883", "broker.lan", "8883"},
	          {"[::1]:1883", "::1", "1883"}};
	char *host, *port;
	(void) state;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(probe_split(ok[i].in, &host, &port), 0);
		assert_string_equal(host, ok[i].host);
		assert_string_equal(port, ok[i].port);
		free(host);
		free(port);
	}
	assert_int_equal(probe_split("no-port", &host, &port), -EINVAL);
	assert_int_equal(probe_split("host:", &host, &port), -EINVAL);
	assert_int_equal(probe_split("[::1:1883", &host, &port), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepted),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
