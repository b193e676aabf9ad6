/* SPDX-License-Identifier: MIT */
/*
 * One TCP connection attempt of our own after paho failed to connect, to tell the user why
 * (see probe.h): the kernel's answer to connect() is what paho keeps to itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe.h"

/* 0 when accepted, else the errno of the failure (ETIMEDOUT when timeout_ms ran out). */
static int
try_connect(const struct addrinfo *ai, int timeout_ms)
{
	struct pollfd pfd = {.events = POLLOUT};
	socklen_t len = sizeof(int);
	int err = 0, r;

	pfd.fd =
	    socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (pfd.fd < 0)
		return errno;
	if (connect(pfd.fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
		err = errno;
		goto out_close;
	}
	do
		r = poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		err = ETIMEDOUT;
	else if (r < 0 || getsockopt(pfd.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
out_close:
	(void) close(pfd.fd);
	return err;
}

void
probe_tcp(const char *host, const char *port, int timeout_ms, struct probe_result *ret)
{
	const struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *list;
	int err = 0, r;

	*ret = (struct probe_result){0};
	r = getaddrinfo(host, port, &hints, &list);
	if (r != 0) {
		ret->failure = BACKEND_FAIL_NO_NAME;
		ret->code = r;
		return;
	}
	for (const struct addrinfo *ai = list; ai; ai = ai->ai_next) {
		err = try_connect(ai, timeout_ms);
		if (err == 0)
			break;
	}
	freeaddrinfo(list);
	ret->accepted = err == 0;
	ret->code = err;
	if (err == ECONNREFUSED)
		ret->failure = BACKEND_FAIL_REFUSED;
	else if (err == ETIMEDOUT)
		ret->failure = BACKEND_FAIL_TIMEOUT;
	else
		ret->failure = BACKEND_FAIL_UNREACHABLE;
}

int
probe_split(const char *hostport, char **ret_host, char **ret_port)
{
	const char *colon = strrchr(hostport, ':');
	const char *host = hostport, *host_end = colon;
	char *h, *p;

	if (!colon || !colon[1])
		return -EINVAL;
	/* An IPv6 literal: getaddrinfo() wants it without its brackets. */
	if (hostport[0] == '[') {
		if (colon == hostport || colon[-1] != ']')
			return -EINVAL;
		host++;
		host_end--;
	}
	h = strndup(host, (size_t) (host_end - host));
	p = strdup(colon + 1);
	if (!h || !p) {
		free(h);
		free(p);
		return -ENOMEM;
	}
	*ret_host = h;
	*ret_port = p;
	return 0;
}
