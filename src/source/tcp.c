/* SPDX-License-Identifier: MIT */
/*
 * A raw TCP stream of TIC bytes as a meter's source: an ESP8266 or ESP32 serial bridge (ESPEasy's
 * serial server, esphome's stream server), ser2net, a TIC-over-TCP dongle. No RFC 2217, no
 * framing: bytes as the bridge read them from the meter, at the speed it reads at.
 *
 * Nothing here blocks the loop. The host name is resolved by a short-lived thread (getaddrinfo()
 * can take seconds when DNS or mDNS is slow) that hands its answer over through a pipe; each
 * address is then tried with a non-blocking connect(). Once connected, TCP keepalive probes find
 * a peer that vanished without a word (a bridge whose Wi-Fi dropped) within about a minute; the
 * line finds one that stays connected but silent. Never logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "linkyd/loop.h"
#include "linkyd/source.h"

/* Keepalive: probes after 20 s without traffic, every 10 s, 4 unanswered ones: a dead peer is
 * noticed within a minute, while a TIC stream never idles for 20 s anyway. */
#define KEEPIDLE_S  20
#define KEEPINTVL_S 10
#define KEEPCNT     4

/* A name lookup shared by the resolver thread and the source; the last to let go frees it. */
struct lookup {
	pthread_mutex_t lock;
	unsigned refs;
	bool cancelled;
	int wake;  /* the pipe's write end, written once the answer is in */
	int error; /* getaddrinfo()'s, 0 with addrs */
	struct addrinfo *addrs;
	char *host, *port;
};

enum stage { CLOSED, RESOLVING, CONNECTING, OPEN };

struct tcp_source {
	struct source source;
	char *host, *port, *name;
	enum stage stage;
	int fd; /* RESOLVING: the pipe's read end; CONNECTING, OPEN: the socket */
	struct lookup *lookup;
	struct addrinfo *addrs, *next; /* the addresses, and the next one to try */
	int last_error;                /* the last address's failure, for when none is left */
};

static struct tcp_source *
tcp_of(const struct source *s)
{
	return container_of(s, struct tcp_source, source);
}

static void
lookup_unref(struct lookup *lk)
{
	bool last;

	pthread_mutex_lock(&lk->lock);
	last = --lk->refs == 0;
	pthread_mutex_unlock(&lk->lock);
	if (!last)
		return;
	if (lk->addrs)
		freeaddrinfo(lk->addrs);
	if (lk->wake >= 0)
		(void) close(lk->wake);
	pthread_mutex_destroy(&lk->lock);
	free(lk->host);
	free(lk->port);
	free(lk);
}

static void *
resolve(void *arg)
{
	struct lookup *lk = arg;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
	struct addrinfo *addrs = NULL;
	int error = getaddrinfo(lk->host, lk->port, &hints, &addrs);

	pthread_mutex_lock(&lk->lock);
	if (lk->cancelled) {
		if (addrs)
			freeaddrinfo(addrs);
	} else {
		lk->error = error;
		lk->addrs = error ? NULL : addrs;
		(void) !write(lk->wake, "", 1);
	}
	pthread_mutex_unlock(&lk->lock);
	lookup_unref(lk);
	return NULL;
}

/* Start resolving host:port; s->fd becomes readable with the answer. */
static int
start_lookup(struct tcp_source *t)
{
	struct lookup *lk = calloc(1, sizeof(*lk));
	pthread_attr_t attr;
	pthread_t thread;
	int p[2], r;

	if (!lk)
		return -ENOMEM;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(lk);
		return -errno;
	}
	pthread_mutex_init(&lk->lock, NULL);
	lk->refs = 2;
	lk->wake = p[1];
	lk->host = strdup(t->host);
	lk->port = strdup(t->port);
	r = lk->host && lk->port ? pthread_attr_init(&attr) : ENOMEM;
	if (r == 0) {
		(void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		r = pthread_create(&thread, &attr, resolve, lk);
		(void) pthread_attr_destroy(&attr);
	}
	if (r != 0) {
		lk->refs = 1;
		lookup_unref(lk);
		(void) close(p[0]);
		return -r;
	}
	t->lookup = lk;
	t->fd = p[0];
	t->stage = RESOLVING;
	return -EINPROGRESS;
}

/* Let go of a lookup under way: the thread frees its answer when it comes. */
static void
cancel_lookup(struct tcp_source *t)
{
	if (!t->lookup)
		return;
	pthread_mutex_lock(&t->lookup->lock);
	t->lookup->cancelled = true;
	pthread_mutex_unlock(&t->lookup->lock);
	lookup_unref(t->lookup);
	t->lookup = NULL;
}

static void
close_fd(struct tcp_source *t)
{
	if (t->fd >= 0)
		(void) close(t->fd);
	t->fd = -1;
}

/* Connect to the next address. Returns -EINPROGRESS, 0 (connected at once, on loopback) or the
 * last failure when no address is left. */
static int
connect_next(struct tcp_source *t)
{
	while (t->next) {
		struct addrinfo *a = t->next;

		t->next = a->ai_next;
		t->fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		               a->ai_protocol);
		if (t->fd < 0) {
			t->last_error = -errno;
			continue;
		}
		t->stage = CONNECTING;
		if (connect(t->fd, a->ai_addr, a->ai_addrlen) == 0)
			return 0;
		if (errno == EINPROGRESS)
			return -EINPROGRESS;
		t->last_error = -errno;
		close_fd(t);
	}
	return t->last_error ? t->last_error : -EHOSTUNREACH;
}

/* Connected: keepalive on, the addresses no longer needed. */
static int
connected(struct tcp_source *t)
{
	int on = 1, idle = KEEPIDLE_S, intvl = KEEPINTVL_S, cnt = KEEPCNT;

	t->stage = OPEN;
	freeaddrinfo(t->addrs);
	t->addrs = t->next = NULL;
	/* Best effort: without them the line's silence check still reconnects. */
	(void) setsockopt(t->fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	(void) setsockopt(t->fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void) setsockopt(t->fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	(void) setsockopt(t->fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	return 0;
}

/* getaddrinfo()'s errors as -errno, the closest there is. */
static int
gai_errno(int error)
{
	switch (error) {
	case EAI_NONAME:
#ifdef EAI_NODATA
	case EAI_NODATA:
#endif
		return -ENXIO; /* "No such device or address": no such host */
	case EAI_AGAIN:
		return -EAGAIN;
	case EAI_MEMORY:
		return -ENOMEM;
	case EAI_SYSTEM:
		return errno ? -errno : -EIO;
	default:
		return -EHOSTUNREACH;
	}
}

static int
tcp_open(struct source *s, unsigned baud)
{
	struct tcp_source *t = tcp_of(s);

	(void) baud;
	t->last_error = 0;
	return start_lookup(t);
}

static int
tcp_finish_open(struct source *s)
{
	struct tcp_source *t = tcp_of(s);
	int err = 0, r;
	socklen_t len = sizeof(err);

	if (t->stage == RESOLVING) {
		struct lookup *lk = t->lookup;

		pthread_mutex_lock(&lk->lock);
		r = lk->error;
		t->addrs = t->next = lk->addrs;
		lk->addrs = NULL;
		pthread_mutex_unlock(&lk->lock);
		lookup_unref(lk);
		t->lookup = NULL;
		close_fd(t);
		if (r != 0)
			return gai_errno(r);
		r = connect_next(t);
		return r == 0 ? connected(t) : r;
	}
	if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0)
		return connected(t);
	/* This address refused: the next one, if any. */
	t->last_error = -err;
	close_fd(t);
	r = connect_next(t);
	return r == 0 ? connected(t) : r;
}

static int
tcp_fd(const struct source *s)
{
	return tcp_of(s)->fd;
}

static long
tcp_read(struct source *s, void *buf, size_t size)
{
	ssize_t n;

	do
		n = recv(tcp_of(s)->fd, buf, size, 0);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		return (long) n;
	/* The bridge closed the connection (it takes a new client, it restarted), or it is gone. */
	if (n == 0)
		return -ENODEV;
	switch (errno) {
	case EAGAIN:
		return 0;
	case ECONNRESET:
	case ETIMEDOUT:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EPIPE:
		return -ENODEV;
	default:
		return -errno;
	}
}

static void
tcp_close(struct source *s)
{
	struct tcp_source *t = tcp_of(s);

	cancel_lookup(t);
	close_fd(t);
	if (t->addrs)
		freeaddrinfo(t->addrs);
	t->addrs = t->next = NULL;
	t->stage = CLOSED;
}

static void
tcp_free(struct source *s)
{
	struct tcp_source *t = tcp_of(s);

	tcp_close(s);
	free(t->host);
	free(t->port);
	free(t->name);
	free(t);
}

static const struct source_ops tcp_ops = {
    .open = tcp_open,
    .finish_open = tcp_finish_open,
    .fd = tcp_fd,
    .read = tcp_read,
    .close = tcp_close,
    .free = tcp_free,
};

int
source_tcp_new(const char *host, unsigned port, struct source **ret)
{
	struct tcp_source *t = calloc(1, sizeof(*t));
	bool v6 = strchr(host, ':') != NULL;

	if (!t)
		return -ENOMEM;
	t->fd = -1;
	t->host = strdup(host);
	if (asprintf(&t->port, "%u", port) < 0)
		t->port = NULL;
	if (asprintf(&t->name, v6 ? "tcp:[%s]:%u" : "tcp:%s:%u", host, port) < 0)
		t->name = NULL;
	if (!t->host || !t->port || !t->name) {
		tcp_free(&t->source);
		return -ENOMEM;
	}
	t->source = (struct source){.ops = &tcp_ops, .name = t->name, .network = true};
	*ret = &t->source;
	return 0;
}
