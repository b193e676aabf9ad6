/* SPDX-License-Identifier: MIT */
/*
 * Eesmart D2L modules as meters' sources. A D2L has no serial port: it joins the Wi-Fi and
 * connects, as a TCP client, to the "local server" it was pointed at, then sends requests on
 * that connection (a frame of the meter as JSON, or a clock request), each waiting for its
 * answer. linkyd is that server (linkyd/d2l.h has the protocol).
 *
 * One listener per address and port, shared by the meters that name it and reference-counted by
 * their open sources; a module is told apart by the id in its frames' clear header, which picks
 * the meter, and so the key. A source opens by registering with its listener, which binds when
 * the first one does: a port that cannot be bound is the source's open failure, and the line
 * tries again with its back-off. Each frame is decrypted, checked (CRC), answered with the clock
 * on the same connection, and its JSON rebuilt into the TIC frame the meter sent, which goes
 * to the line with push().
 *
 * Bounds, so that nothing a peer does can hold linkyd's memory or a slot for good: a frame is at
 * most D2L_FRAME_MAX bytes (the buffer of a connection); 4 connections plus 2 per module, the
 * oldest unidentified one closed for a newcomer; a new connection must bring a valid frame
 * within 30 s, a frame begun must be whole within 30 s, a module's connection silent for 10
 * minutes is closed, and TCP keepalive finds a module gone without a word; a peer that does not
 * read its answers is dropped. A module that reconnects replaces its old connection. Everything
 * is non-blocking, in the loop; one timer per listener serves every deadline.
 *
 * What the modules do wrong is logged once (until it changes): an id no meter has, a wrong key
 * or IV, a firmware update or "no internet" request, a payload that cannot be read.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "linkyd/d2l.h"
#include "linkyd/log.h"
#include "linkyd/loop.h"
#include "linkyd/source.h"

#define CONN_BASE        4                      /* connections beyond two per module */
#define OUT_MAX          (4 * D2L_RESPONSE_LEN) /* answers a peer may leave unread */
#define ACCEPTS_PER_WAKE 16
#define UNKNOWN_IDS      16 /* unknown modules remembered, to say each once */
#define BACKLOG          8
/* Deadlines; tests/unit/test_d2l.c builds this file with shorter ones, as it cannot wait. */
#ifndef D2L_FIRST_FRAME_MS
#define D2L_FIRST_FRAME_MS 30000 /* for a new connection to bring a valid frame */
#endif
#ifndef D2L_FRAME_MS
#define D2L_FRAME_MS 30000 /* for a frame begun to be whole */
#endif
#ifndef D2L_IDLE_MS
#define D2L_IDLE_MS 600000 /* a module's connection without a frame */
#endif
/* Keepalive, as src/source/tcp.c: a module gone without a word is noticed within a minute. */
#define KEEPIDLE_S  20
#define KEEPINTVL_S 10
#define KEEPCNT     4

struct listener;
struct d2l_source;

struct conn {
	struct listener *l;
	struct conn *next;
	struct loop_io io;
	struct d2l_source *module; /* set by its first valid frame */
	bool want_out;             /* EPOLLOUT asked for */
	uint64_t accepted_ms;
	uint64_t idle_deadline;  /* for a valid frame: the first, or the next */
	uint64_t frame_deadline; /* for the frame begun to be whole, 0: none begun */
	char peer[INET6_ADDRSTRLEN + 8];
	size_t in_len, out_len;
	uint8_t out[OUT_MAX];
	uint8_t in[D2L_FRAME_MAX];
};

struct listener {
	struct loop *loop;
	struct listener *next;
	char *addr; /* NULL: any */
	unsigned port;
	char *name; /* "d2l:8008", for logs */
	unsigned refs;
	struct loop_io io;
	struct loop_timer timer;
	struct d2l_source *modules;
	unsigned n_modules, n_conns;
	struct conn *conns;
	uint64_t unknown[UNKNOWN_IDS]; /* ids refused and said */
	unsigned n_unknown;
	int accept_error; /* the last accept() failure said, 0 since one succeeded */
};

struct d2l_source {
	struct source source;
	struct loop *loop;
	char *name, *meter, *addr, *spec;
	unsigned port;
	uint64_t id;
	char id_str[13];
	uint8_t key[D2L_KEY_SIZE], iv[D2L_KEY_SIZE];
	struct d2l_cipher *cipher;
	struct listener *l; /* while open */
	struct d2l_source *next;
	struct conn *conn; /* the module's connection, once it sent a valid frame */
	/* Said once, until it changes. */
	bool said_key, said_firmware, said_internet, said_type, said_json, said_dropped;
	struct d2l_rebuild rb;
	char tic[TIC_FRAME_BYTES];
};

/*
 * The listeners, by loop, address and port: the module's one mutable global, used from the
 * loop's thread only (as src/mqtt/paho.c's library table). Meters are independent objects; the
 * port they share is not.
 */
static struct listener *listeners;

/* ---- connections ---------------------------------------------------------------------------- */

static void schedule(struct listener *l);

/* Close and free c: whatever called this learns from what it returns that c is gone. An event
 * the loop may still hold for it in its batch is dropped by loop_del(). */
static void
conn_close(struct conn *c)
{
	struct listener *l = c->l;

	loop_del(l->loop, &c->io);
	(void) close(c->io.fd);
	c->io.fd = -1;
	for (struct conn **p = &l->conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	l->n_conns--;
	if (c->module && c->module->conn == c)
		c->module->conn = NULL;
	free(c);
}

static uint64_t
conn_deadline(const struct conn *c)
{
	return c->frame_deadline && c->frame_deadline < c->idle_deadline ? c->frame_deadline
	                                                                 : c->idle_deadline;
}

static void
want_out(struct conn *c, bool on)
{
	if (on != c->want_out &&
	    loop_set_events(c->l->loop, &c->io, EPOLLIN | (on ? EPOLLOUT : 0)) == 0)
		c->want_out = on;
}

/* Send what is queued. Returns 0, or -1 when the connection was closed. */
static int
flush(struct conn *c)
{
	while (c->out_len) {
		ssize_t n = send(c->io.fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			log_info("%s: connection from %s lost while answering", c->l->name,
			         c->peer);
			conn_close(c);
			return -1;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t) n);
		c->out_len -= (size_t) n;
	}
	want_out(c, c->out_len > 0);
	return 0;
}

/* The nonce only makes two answers differ; it is no secret. Without entropy yet (early boot),
 * the clock and a counter still do that. */
static void
nonce(uint8_t out[16])
{
	static uint64_t count;
	struct timespec ts;

	if (getrandom(out, 16, GRND_NONBLOCK) == 16)
		return;
	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	count++;
	memcpy(out, &ts, sizeof(ts) < 16 ? sizeof(ts) : 16);
	memcpy(out + 8, &count, sizeof(count));
}

/* Answer a request of type with the clock. Returns false when the connection was closed. */
static bool
answer(struct conn *c, struct d2l_source *s, uint8_t type)
{
	uint8_t n[16];

	if (c->out_len + D2L_RESPONSE_LEN > OUT_MAX) {
		log_info("%s: closing the connection of D2L module %s from %s: it does not read "
		         "its answers",
		         c->l->name, s->id_str, c->peer);
		conn_close(c);
		return false;
	}
	nonce(n);
	if (d2l_response(c->out + c->out_len, s->cipher, s->id, type, d2l_clock(time(NULL)), n) <
	    0) {
		log_err("meter '%s': cannot seal the answer to D2L module %s", s->meter, s->id_str);
		conn_close(c);
		return false;
	}
	c->out_len += D2L_RESPONSE_LEN;
	return flush(c) == 0;
}

/* ---- requests ------------------------------------------------------------------------------ */

static struct d2l_source *
module_find(const struct listener *l, uint64_t id)
{
	for (struct d2l_source *s = l->modules; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

static void
refuse_unknown(struct conn *c, uint64_t id)
{
	struct listener *l = c->l;

	for (unsigned i = 0; i < l->n_unknown && i < UNKNOWN_IDS; i++)
		if (l->unknown[i] == id)
			return;
	l->unknown[l->n_unknown++ % UNKNOWN_IDS] = id;
	log_warn("%s: refusing D2L module %012" PRIu64 " from %s: no meter has this d2l_id "
	         "(said once)",
	         l->name, id, c->peer);
}

static const char *
json_error(int r)
{
	switch (r) {
	case -ENOMSG:
		return "no _TYPE_TRAME HISTORIQUE or STANDARD";
	case -EMSGSIZE:
		return "more than a TIC frame holds";
	default:
		return "not a JSON object of strings";
	}
}

/* A frame of the meter: rebuilt as the TIC frame it was, for the line's parser. */
static void
push_json(struct d2l_source *s, const struct d2l_request *req)
{
	struct d2l_frame_info info;
	size_t len;
	int r = d2l_json_to_tic(&s->rb, req->json, req->payload_len, s->tic, sizeof(s->tic), &len,
	                        &info);

	if (r < 0) {
		if (!s->said_json)
			log_warn("meter '%s': D2L module %s sent a frame linkyd cannot read: %s "
			         "(said once until one reads)",
			         s->meter, s->id_str, json_error(r));
		s->said_json = true;
		return;
	}
	s->said_json = false;
	if (info.dropped && !s->said_dropped)
		log_notice("meter '%s': D2L module %s sent %u value(s) that no TIC frame carries "
		           "(bytes outside printable ASCII, a bad label), left out (said once)",
		           s->meter, s->id_str, info.dropped);
	s->said_dropped |= info.dropped > 0;
	s->source.push(s->source.push_ctx, s->tic, len);
}

/* The connection is module s's from now on; an older one of the module's is stale. */
static void
adopt(struct conn *c, struct d2l_source *s)
{
	if (!c->module) {
		if (s->conn) {
			log_info(
			    "%s: D2L module %s reconnected from %s, closing its connection from "
			    "%s",
			    c->l->name, s->id_str, c->peer, s->conn->peer);
			conn_close(s->conn);
		}
		c->module = s;
		s->conn = c;
	}
	c->idle_deadline = loop_now_ms() + D2L_IDLE_MS;
}

/* Handle the whole frame at the start of c->in (size bytes, its header read). Returns false
 * when the connection was closed. */
static bool
handle(struct conn *c, const struct d2l_header *h)
{
	struct d2l_source *s = module_find(c->l, h->id);
	struct d2l_request req;
	int r;

	if (!s) {
		refuse_unknown(c, h->id);
		conn_close(c);
		return false;
	}
	if (c->module && c->module != s) {
		log_info("%s: closing the connection from %s: D2L module %s then %s", c->l->name,
		         c->peer, c->module->id_str, s->id_str);
		conn_close(c);
		return false;
	}
	r = d2l_frame_open(c->in, h->size, s->cipher, &req);
	if (r == -EBADMSG) {
		if (!s->said_key)
			log_warn(
			    "meter '%s': the frames of D2L module %s (from %s) do not decrypt: "
			    "the key or the iv configured for it is wrong (said once until one "
			    "decrypts)",
			    s->meter, s->id_str, c->peer);
		s->said_key = true;
		conn_close(c);
		return false;
	}
	if (r < 0) {
		log_info("%s: closing the connection of D2L module %s from %s: %s", c->l->name,
		         s->id_str, c->peer, r == -EIO ? "cannot decrypt" : "malformed frame");
		conn_close(c);
		return false;
	}
	s->said_key = false;
	adopt(c, s);
	if (req.response || req.error)
		log_debug("meter '%s': D2L module %s: a request flagged%s%s", s->meter, s->id_str,
		          req.response ? " response" : "", req.error ? " error" : "");
	switch (req.type) {
	case D2L_PUSH_JSON:
		push_json(s, &req);
		break;
	case D2L_GET_HORLOGE:
		break;
	case D2L_FIRMWARE:
		/* Only Eesmart's cloud has the firmware: answering the clock would not help. */
		if (!s->said_firmware)
			log_warn("meter '%s': D2L module %s asks for a firmware update, which only "
			         "Eesmart's server provides: point it back at Eesmart for a while, "
			         "then at linkyd again (said once)",
			         s->meter, s->id_str);
		s->said_firmware = true;
		conn_close(c);
		return false;
	case D2L_NO_INTERNET:
		if (!s->said_internet)
			log_notice(
			    "meter '%s': D2L module %s says it reaches no Internet (said once)",
			    s->meter, s->id_str);
		s->said_internet = true;
		break;
	default:
		if (!s->said_type)
			log_notice(
			    "meter '%s': D2L module %s sent a request of unknown type 0x%02x, "
			    "answered with the clock (said once)",
			    s->meter, s->id_str, req.type);
		s->said_type = true;
		break;
	}
	/* Both known servers answer every request with the clock: the module waits for it. */
	return answer(c, s, req.type);
}

/* Handle the whole frames c->in holds. Returns false when the connection was closed. */
static bool
process(struct conn *c)
{
	struct d2l_header h;
	int r;

	while (c->in_len >= D2L_CLEAR_SIZE) {
		r = d2l_header_read(c->in, &h);
		if (r < 0) {
			log_info("%s: closing the connection from %s: %s", c->l->name, c->peer,
			         r == -EMSGSIZE ? "a frame over the largest a D2L sends"
			                        : "not a D2L frame");
			conn_close(c);
			return false;
		}
		if (c->in_len < h.size)
			break;
		if (!handle(c, &h))
			return false;
		memmove(c->in, c->in + h.size, c->in_len - h.size);
		c->in_len -= h.size;
		c->frame_deadline = 0;
	}
	/* A frame begun: whole within D2L_FRAME_MS of now, or of its first bytes. */
	if (c->in_len && !c->frame_deadline)
		c->frame_deadline = loop_now_ms() + D2L_FRAME_MS;
	return true;
}

static void
conn_ready(struct loop_io *io, uint32_t events)
{
	struct conn *c = container_of(io, struct conn, io);
	struct listener *l = c->l;
	ssize_t n;

	if ((events & EPOLLOUT) && flush(c) < 0) {
		schedule(l);
		return;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	do
		n = recv(io->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		log_debug("%s: connection from %s closed%s", l->name, c->peer,
		          c->in_len ? " in the middle of a frame" : "");
		conn_close(c);
		schedule(l);
		return;
	}
	c->in_len += (size_t) n;
	(void) process(c);
	schedule(l);
}

/* Room for one more connection: the oldest that no valid frame identified makes it, if need
 * be. */
static bool
make_room(struct listener *l)
{
	struct conn *oldest = NULL;

	if (l->n_conns < CONN_BASE + 2 * l->n_modules)
		return true;
	/* Newest first in the list: among those accepted in the same millisecond, the last. */
	for (struct conn *c = l->conns; c; c = c->next)
		if (!c->module && (!oldest || c->accepted_ms <= oldest->accepted_ms))
			oldest = c;
	if (!oldest)
		return false;
	log_info("%s: closing the connection from %s, which sent no valid frame, for a newer one",
	         l->name, oldest->peer);
	conn_close(oldest);
	return true;
}

static void
peer_name(const struct sockaddr_storage *sa, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN] = "?";

	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *) sa;

		(void) inet_ntop(AF_INET6, &a->sin6_addr, addr, sizeof(addr));
		(void) snprintf(buf, size, "[%s]:%u", addr, ntohs(a->sin6_port));
	} else {
		const struct sockaddr_in *a = (const void *) sa;

		(void) inet_ntop(AF_INET, &a->sin_addr, addr, sizeof(addr));
		(void) snprintf(buf, size, "%s:%u", addr, ntohs(a->sin_port));
	}
}

static void
accept_one(struct listener *l, int fd, const struct sockaddr_storage *sa)
{
	int on = 1, idle = KEEPIDLE_S, intvl = KEEPINTVL_S, cnt = KEEPCNT;
	struct conn *c;

	if (!make_room(l) || !(c = calloc(1, sizeof(*c)))) {
		(void) close(fd);
		return;
	}
	c->l = l;
	peer_name(sa, c->peer, sizeof(c->peer));
	if (loop_add(l->loop, &c->io, fd, EPOLLIN, conn_ready) < 0) {
		(void) close(fd);
		free(c);
		return;
	}
	/* Best effort: without them the idle deadline still closes a dead connection. */
	(void) setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	(void) setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void) setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	(void) setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	c->accepted_ms = loop_now_ms();
	c->idle_deadline = c->accepted_ms + D2L_FIRST_FRAME_MS;
	c->next = l->conns;
	l->conns = c;
	l->n_conns++;
	log_debug("%s: connection from %s", l->name, c->peer);
}

static void
listener_ready(struct loop_io *io, uint32_t events)
{
	struct listener *l = container_of(io, struct listener, io);

	(void) events;
	/* A few at a time: a flood of connections must not starve the meters' lines. */
	for (int i = 0; i < ACCEPTS_PER_WAKE; i++) {
		struct sockaddr_storage sa = {0};
		socklen_t len = sizeof(sa);
		int fd =
		    accept4(l->io.fd, (struct sockaddr *) &sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (fd < 0) {
			int e = -errno;

			/* EMFILE and the like stay until a connection closes: said once. */
			if (e != -EAGAIN && e != l->accept_error)
				log_errno(LOG_WARNING, e,
				          "%s: cannot accept a connection (said once until one is "
				          "accepted)",
				          l->name);
			if (e != -EAGAIN)
				l->accept_error = e;
			break;
		}
		l->accept_error = 0;
		accept_one(l, fd, &sa);
	}
	schedule(l);
}

/* ---- deadlines ------------------------------------------------------------------------------ */

/* The timer at the earliest deadline. */
static void
schedule(struct listener *l)
{
	uint64_t first = 0, now = loop_now_ms();

	for (struct conn *c = l->conns; c; c = c->next) {
		uint64_t d = conn_deadline(c);

		if (!first || d < first)
			first = d;
	}
	(void) loop_timer_arm(&l->timer, first ? (first > now ? first - now : 1) : 0, 0);
}

static void
deadline_due(struct loop_timer *t)
{
	struct listener *l = container_of(t, struct listener, timer);
	uint64_t now = loop_now_ms();
	struct conn *c = l->conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (conn_deadline(c) > now)
			continue;
		log_info("%s: closing the connection from %s: %s", l->name, c->peer,
		         c->frame_deadline && c->frame_deadline <= now ? "a frame left unfinished"
		         : c->module                                   ? "silent for too long"
		                                                       : "no valid frame");
		conn_close(c);
	}
	schedule(l);
}

/* ---- listeners ------------------------------------------------------------------------------ */

static bool
same_addr(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Bind and listen on addr (NULL: any IPv4 address) and port. Returns the socket or -errno. */
static int
bind_listener(const char *addr, unsigned port)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *in = (void *) &ss;
	struct sockaddr_in6 *in6 = (void *) &ss;
	socklen_t len = sizeof(*in);
	int on = 1, fd, r = 0;

	if (addr && strchr(addr, ':')) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t) port);
		len = sizeof(*in6);
		r = inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1 ? 0 : -EINVAL;
	} else {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t) port);
		in->sin_addr.s_addr = htonl(INADDR_ANY);
		r = !addr || inet_pton(AF_INET, addr, &in->sin_addr) == 1 ? 0 : -EINVAL;
	}
	if (r < 0)
		return r;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A restart must not wait for the last run's connections in TIME_WAIT. */
	(void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *) &ss, len) < 0 || listen(fd, BACKLOG) < 0) {
		r = -errno;
		(void) close(fd);
		return r;
	}
	return fd;
}

static int
listener_get(struct loop *loop, const char *addr, unsigned port, const char *spec,
             struct listener **ret)
{
	struct listener *l;
	int fd, r;

	for (l = listeners; l; l = l->next)
		if (l->loop == loop && l->port == port && same_addr(l->addr, addr)) {
			l->refs++;
			*ret = l;
			return 0;
		}
	fd = bind_listener(addr, port);
	if (fd < 0)
		return fd;
	l = calloc(1, sizeof(*l));
	if (!l || (addr && !(l->addr = strdup(addr))) || !(l->name = strdup(spec))) {
		r = -ENOMEM;
		goto out_free;
	}
	l->loop = loop;
	l->port = port;
	l->refs = 1;
	l->timer.io.fd = -1;
	if ((r = loop_add(loop, &l->io, fd, EPOLLIN, listener_ready)) < 0 ||
	    (r = loop_timer_init(loop, &l->timer, deadline_due)) < 0)
		goto out_del;
	l->next = listeners;
	listeners = l;
	log_info("%s: listening for D2L modules", l->name);
	*ret = l;
	return 0;

out_del:
	loop_del(loop, &l->io);
out_free:
	(void) close(fd);
	if (l) {
		free(l->addr);
		free(l->name);
		free(l);
	}
	return r;
}

static void
listener_unref(struct listener *l)
{
	if (--l->refs > 0)
		return;
	for (struct listener **p = &listeners; *p; p = &(*p)->next)
		if (*p == l) {
			*p = l->next;
			break;
		}
	while (l->conns)
		conn_close(l->conns);
	loop_del(l->loop, &l->io);
	(void) close(l->io.fd);
	loop_timer_done(l->loop, &l->timer);
	log_info("%s: no longer listening", l->name);
	free(l->addr);
	free(l->name);
	free(l);
}

/* ---- the source ----------------------------------------------------------------------------- */

static struct d2l_source *
d2l_of(const struct source *s)
{
	return container_of(s, struct d2l_source, source);
}

static int
d2l_open(struct source *src, unsigned baud)
{
	struct d2l_source *s = d2l_of(src);
	struct listener *l;
	int r;

	(void) baud;
	if (!s->cipher && (r = d2l_cipher_new(s->key, s->iv, &s->cipher)) < 0)
		return r;
	r = listener_get(s->loop, s->addr, s->port, s->spec, &l);
	if (r < 0)
		return r;
	/* The configuration gives each module one meter; a second would never get a frame. */
	if (module_find(l, s->id)) {
		listener_unref(l);
		return -EADDRINUSE;
	}
	s->l = l;
	s->next = l->modules;
	l->modules = s;
	l->n_modules++;
	return 0;
}

static void
d2l_close(struct source *src)
{
	struct d2l_source *s = d2l_of(src);
	struct listener *l = s->l;

	if (!l)
		return;
	/* The module comes back to whatever serves its id next. */
	if (s->conn)
		conn_close(s->conn);
	for (struct d2l_source **p = &l->modules; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	l->n_modules--;
	s->l = NULL;
	listener_unref(l);
}

static void
d2l_free(struct source *src)
{
	struct d2l_source *s = d2l_of(src);

	d2l_close(src);
	s->cipher = d2l_cipher_free(s->cipher);
	free(s->name);
	free(s->meter);
	free(s->addr);
	free(s->spec);
	explicit_bzero(s->key, sizeof(s->key));
	explicit_bzero(s->iv, sizeof(s->iv));
	free(s);
}

static const struct source_ops d2l_ops = {
    .open = d2l_open,
    .close = d2l_close,
    .free = d2l_free,
};

int
source_d2l_new(struct loop *loop, const struct meter_config *m, struct source **ret)
{
	struct d2l_source *s;
	char *end;

	if (!m->d2l_id || !m->d2l_key || !m->d2l_iv)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->port = m->input.port;
	s->id = strtoull(m->d2l_id, &end, 10);
	(void) snprintf(s->id_str, sizeof(s->id_str), "%s", m->d2l_id);
	if (*end || d2l_hex128(m->d2l_key, s->key) < 0 || d2l_hex128(m->d2l_iv, s->iv) < 0) {
		d2l_free(&s->source);
		return -EINVAL;
	}
	s->meter = strdup(m->name);
	s->spec = strdup(m->input.spec);
	if (m->input.host)
		s->addr = strdup(m->input.host);
	if (asprintf(&s->name, "%s, D2L module %s", m->input.spec, m->d2l_id) < 0)
		s->name = NULL;
	if (!s->meter || !s->spec || !s->name || (m->input.host && !s->addr)) {
		d2l_free(&s->source);
		return -ENOMEM;
	}
	s->source = (struct source){.ops = &d2l_ops, .name = s->name};
	*ret = &s->source;
	return 0;
}
