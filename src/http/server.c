/* SPDX-License-Identifier: MIT */
/*
 * The HTTP server: libmicrohttpd inside the event loop, the only file that names it.
 *
 * MHD runs with no thread of its own (MHD_USE_EPOLL without an internal polling thread): it keeps
 * its sockets in an epoll set of its own, whose fd sits in our loop like any other (epoll sets
 * nest), and MHD_run() does whatever is ready, never blocking. After each run MHD_get_timeout()
 * says when it must run again even without traffic (an idle connection to close): a timerfd.
 * The listening socket is ours (non-blocking, close-on-exec, bound before MHD starts), so that a
 * busy port is said plainly; MHD closes it when it stops.
 *
 * What a client can take: max_connections sockets in all, max_per_ip from one address, 16 KiB of
 * MHD's memory each for the request line and headers (a longer request gets 431 or 414 and is
 * closed), timeout seconds of silence. A request is answered within the one MHD_run() that read
 * its last header byte, from the state store in memory: nothing a client does makes the loop
 * wait, so the meters' frames never do.
 *
 * libmicrohttpd links GnuTLS and its dependencies: linked at build time it adds 2.8 MiB to the
 * RSS of a daemon that serves no HTTP (against a 4 MiB target). It is loaded here on first use,
 * like paho in src/mqtt/paho.c, and kept until exit.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "linkyd/http.h"
#include "linkyd/log.h"

#define MHD_SONAME      "libmicrohttpd.so.12"
#define CONNECTION_POOL 16384 /* MHD's memory per connection: the request and its headers */
#define LISTEN_BACKLOG  16

/* Every MHD function linkyd calls. */
struct mhd_api {
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_run) *run;
	__typeof__(MHD_get_timeout) *get_timeout;
	__typeof__(MHD_get_daemon_info) *get_daemon_info;
	__typeof__(MHD_lookup_connection_value) *lookup_connection_value;
	__typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_destroy_response) *destroy_response;
};

/* Loaded once, from the loop's thread only; all NULL until then. The module's one mutable
 * global, as paho's table is in src/mqtt/paho.c. */
static struct mhd_api mhd;

#define RESOLVE(h, f) ((mhd.f = (__typeof__(mhd.f)) dlsym(h, "MHD_" #f)) != NULL)

static int
load(void)
{
	void *h;

	if (mhd.run)
		return 0;
	h = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		log_err("cannot load %s for the HTTP API: %s (is Debian's package libmicrohttpd12 "
		        "installed?)",
		        MHD_SONAME, dlerror());
		return -ENOENT;
	}
	if (!(RESOLVE(h, start_daemon) && RESOLVE(h, stop_daemon) && RESOLVE(h, run) &&
	      RESOLVE(h, get_timeout) && RESOLVE(h, get_daemon_info) &&
	      RESOLVE(h, lookup_connection_value) && RESOLVE(h, create_response_from_buffer) &&
	      RESOLVE(h, add_response_header) && RESOLVE(h, queue_response) &&
	      RESOLVE(h, destroy_response))) {
		log_err("%s: %s (libmicrohttpd 0.9.71 or later is needed)", MHD_SONAME, dlerror());
		mhd = (struct mhd_api){0};
		(void) dlclose(h);
		return -ENOENT;
	}
	return 0;
}

struct http_server {
	struct loop *loop;
	const struct linkyd_config *cfg; /* referenced */
	struct http_site site;
	struct MHD_Daemon *daemon;
	struct loop_io io; /* MHD's epoll fd */
	struct loop_timer timer;
	bool closed; /* a connection closed during this run */
};

/* ---- running MHD in the loop ----------------------------------------------------------------- */

static void
run(struct http_server *s)
{
	MHD_UNSIGNED_LONG_LONG ms;

	/* At its connection limit MHD takes the listening socket out of its epoll set, and puts it
	 * back at the start of a run (0.9.75's MHD_epoll()), not when a connection closes: after a
	 * run that closed one, it would stay out (no timeout left to say otherwise) and the next
	 * client would wait forever. Each pass closes one at least, so this ends. */
	do {
		s->closed = false;
		(void) mhd.run(s->daemon);
	} while (s->closed);
	/* 0 means "now": the timerfd needs at least 1 ms (0 would disarm it). */
	if (mhd.get_timeout(s->daemon, &ms) == MHD_YES)
		(void) loop_timer_arm(&s->timer, ms ? ms : 1, 0);
	else
		(void) loop_timer_arm(&s->timer, 0, 0);
}

static void
on_ready(struct loop_io *io, uint32_t events)
{
	(void) events;
	run(container_of(io, struct http_server, io));
}

static void
on_timer(struct loop_timer *t)
{
	run(container_of(t, struct http_server, timer));
}

static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
              enum MHD_ConnectionNotificationCode code)
{
	struct http_server *s = cls;

	(void) conn;
	(void) socket_context;
	if (code == MHD_CONNECTION_NOTIFY_CLOSED)
		s->closed = true;
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	(void) cls;
	/* Each refused connection is a line (the limits, a client's garbage): debug only. */
	(void) vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("http: %s", msg);
}

static enum MHD_Result
add_header(struct MHD_Response *resp, const char *name, const char *value)
{
	return mhd.add_response_header(resp, name, value);
}

/* MHD calls this once the headers are in, then with each piece of a body, then once more at its
 * end. An answer queued at the first call would make MHD close the connection after it (it no
 * longer knows where the next request starts): the first call only marks the request, the next
 * one answers. No route takes a body: a request with one is dropped at its first piece (MHD
 * closes the connection), as answering it would mean reading it all first. */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	struct http_server *s = cls;
	struct http_request req = {.method = method, .path = url};
	struct http_response r;
	struct MHD_Response *resp;
	enum MHD_Result ok;
	char challenge[128];

	(void) version;
	(void) upload_data;
	if (!*req_cls) {
		*req_cls = s;
		return MHD_YES;
	}
	if (*upload_data_size)
		return MHD_NO;
	req.authorization =
	    mhd.lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	http_respond(&s->site, &req, loop_now_ms(), &r);
	resp = mhd.create_response_from_buffer(
	    r.len, r.body ? r.body : "", r.body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		http_response_done(&r);
		return MHD_NO;
	}
	r.body = NULL; /* MHD frees it */
	ok = add_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type);
	/* Every answer is the state of this instant. */
	if (ok == MHD_YES)
		ok = add_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (ok == MHD_YES && r.challenge) {
		(void) snprintf(challenge, sizeof(challenge),
		                "Basic realm=\"%s\", charset=\"UTF-8\"", s->cfg->http.realm);
		ok = add_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, challenge);
	}
	if (ok == MHD_YES && r.allow)
		ok = add_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (ok == MHD_YES)
		ok = mhd.queue_response(conn, r.status, resp);
	mhd.destroy_response(resp);
	http_response_done(&r);
	return ok;
}

/* ---- starting and stopping ------------------------------------------------------------------- */

static const char *
where(const struct linkyd_config *cfg, const char *path)
{
	const char *w = config_where(cfg, path);

	return w ? w : "default";
}

/* A listening socket on cfg's http.listen. Returns the fd or -errno (logged). */
static int
listen_on(const struct linkyd_config *cfg)
{
	struct config_listen l;
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int fd, one = 1, r;

	if (config_listen_parse(cfg->http.listen, &l) < 0)
		return -EINVAL; /* the configuration checked it */
	if (l.family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *) &ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t) l.port);
		memcpy(&a->sin6_addr, l.addr, 16);
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *) &ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t) l.port);
		memcpy(&a->sin_addr, l.addr, 4);
		len = sizeof(*a);
	}
	fd = socket(l.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return log_errno(LOG_ERR, -errno, "http: cannot create a socket");
	/* A restart must not wait for the last run's connections in TIME_WAIT. */
	(void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* [::] means IPv6 only: 0.0.0.0 is a listen address of its own. */
	if (l.family == AF_INET6)
		(void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *) &ss, len) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		r = -errno;
		(void) close(fd);
		return log_errno(LOG_ERR, r, "http: cannot listen on %s (http.listen, %s)",
		                 cfg->http.listen, where(cfg, "http.listen"));
	}
	return fd;
}

/* http.password, or the first line of http.password_file, into buf. Returns 0 or -errno
 * (logged). */
static int
read_password(const struct linkyd_config *cfg, char *buf, size_t size)
{
	const struct http_config *h = &cfg->http;
	ssize_t n;
	int fd, r = 0;

	buf[0] = '\0';
	if (!h->password_file) {
		if (h->password)
			(void) snprintf(buf, size, "%s", h->password);
		return 0;
	}
	fd = open(h->password_file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return log_errno(LOG_ERR, -errno, "http: cannot read http.password_file '%s' (%s)",
		                 h->password_file, where(cfg, "http.password_file"));
	n = read(fd, buf, size);
	if (n < 0)
		r = -errno;
	(void) close(fd);
	if (n >= 0 && (size_t) n < size) {
		buf[n] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
	}
	if (r == 0 && ((size_t) n >= size || buf[0] == '\0'))
		r = -EINVAL;
	if (r < 0) {
		explicit_bzero(buf, size);
		return log_errno(LOG_ERR, r,
		                 "http: http.password_file '%s' (%s): expected one line of 1 to %d "
		                 "bytes",
		                 h->password_file, where(cfg, "http.password_file"),
		                 HTTP_SECRET_MAX);
	}
	return 0;
}

/* Point s at cfg (a reference), with its password and the host's name. */
static void
set_config(struct http_server *s, const struct linkyd_config *cfg, const struct state_store *store,
           const char *password)
{
	char host[256] = "";

	(void) gethostname(host, sizeof(host) - 1);
	config_ref(cfg);
	config_unref(s->cfg);
	s->cfg = cfg;
	http_site_done(&s->site);
	http_site_init(&s->site, cfg, store, password, host);
}

static int
server_new(struct loop *loop, const struct linkyd_config *cfg, const struct state_store *store,
           const char *password, struct http_server **ret)
{
	const struct http_config *h = &cfg->http;
	struct http_server *s;
	const union MHD_DaemonInfo *info;
	int fd, r;

	r = load();
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->io.fd = s->timer.io.fd = -1;
	set_config(s, cfg, store, password);
	fd = listen_on(cfg);
	if (fd < 0) {
		http_server_free(s);
		return fd;
	}
	s->daemon = mhd.start_daemon(
	    MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, s,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
	    s, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, h->max_connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->max_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned) h->timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) CONNECTION_POOL,
	    MHD_OPTION_END);
	if (!s->daemon) {
		(void) close(fd);
		log_err("http: libmicrohttpd did not start on %s", h->listen);
		http_server_free(s);
		return -EIO;
	}
	info = mhd.get_daemon_info(s->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	r = info ? loop_add(loop, &s->io, info->epoll_fd, EPOLLIN, on_ready) : -EIO;
	if (r == 0)
		r = loop_timer_init(loop, &s->timer, on_timer);
	if (r < 0) {
		log_errno(LOG_ERR, r, "http: cannot watch libmicrohttpd's sockets");
		http_server_free(s);
		return r;
	}
	run(s);
	log_notice("http: serving on %s%s", h->listen,
	           h->username ? ", Basic authentication" : ", no authentication");
	*ret = s;
	return 0;
}

/* Whether a server started for a can serve b as it is: the socket and MHD's limits. */
static bool
same_socket(const struct http_config *a, const struct http_config *b)
{
	return strcmp(a->listen, b->listen) == 0 && a->max_connections == b->max_connections &&
	       a->max_per_ip == b->max_per_ip && a->timeout == b->timeout;
}

int
http_server_apply(struct loop *loop, const struct linkyd_config *cfg,
                  const struct state_store *store, struct http_server **s)
{
	char password[HTTP_SECRET_MAX + 2];
	struct http_server *fresh;
	int r;

	if (!cfg->http.listen) {
		if (*s)
			log_notice("http: stopped");
		*s = http_server_free(*s);
		return 0;
	}
	r = read_password(cfg, password, sizeof(password));
	if (r < 0)
		return r;
	if (*s && same_socket(&(*s)->cfg->http, &cfg->http)) {
		set_config(*s, cfg, store, password);
		explicit_bzero(password, sizeof(password));
		return 0;
	}
	/* The same address is still bound by the old server: it goes first. */
	if (*s && strcmp((*s)->cfg->http.listen, cfg->http.listen) == 0)
		*s = http_server_free(*s);
	r = server_new(loop, cfg, store, password, &fresh);
	explicit_bzero(password, sizeof(password));
	if (r < 0)
		return r;
	http_server_free(*s);
	*s = fresh;
	return 0;
}

struct http_server *
http_server_free(struct http_server *s)
{
	if (!s)
		return NULL;
	loop_timer_done(s->loop, &s->timer);
	/* Out of our loop before MHD closes its epoll fd. */
	loop_del(s->loop, &s->io);
	if (s->daemon)
		mhd.stop_daemon(s->daemon);
	http_site_done(&s->site);
	config_unref(s->cfg);
	free(s);
	return NULL;
}
