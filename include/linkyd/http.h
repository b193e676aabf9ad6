/* SPDX-License-Identifier: MIT */
/*
 * The HTTP API: a GCE Eco-Devices' XML (status.xml, teleinfo1.xml, teleinfo2.xml) for
 * Domoticz and Home Assistant's ecodevices integration, /metrics for Prometheus and
 * /status.json, all read from the state store. Two halves: the site answers one request (no fd,
 * no clock, no libmicrohttpd: what the fuzzer and the bench drive), the server serves the site
 * from the event loop through libmicrohttpd, loaded at run time.
 */
#ifndef LINKYD_HTTP_H
#define LINKYD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "linkyd/config.h"
#include "linkyd/loop.h"
#include "linkyd/sink.h"

#define HTTP_BODY_MAX    (4u << 20) /* the largest response: 64 meters' /status.json */
#define HTTP_HOST_MAX    32         /* config_hostname: the real device's is 16 or so */
#define HTTP_SECRET_MAX  255        /* bytes of a password (http.password's limit) */
#define HTTP_VERSION_XML "1.06.00"  /* the Eco-Devices firmware Domoticz wants, >= 1.05.12 */

/* What a request is, to the site: the rest of it (body, other headers) changes nothing. */
struct http_request {
	const char *method;
	const char *path;          /* without the query string */
	const char *authorization; /* the Authorization header, NULL when absent */
};

struct http_response {
	unsigned status;
	const char *content_type; /* static */
	char *body;               /* malloc'ed: http_response_done() frees it */
	size_t len;
	bool challenge; /* 401: send WWW-Authenticate: Basic realm="<realm>" */
	bool allow;     /* 405: send Allow: GET, HEAD */
};

/* What the site reads. cfg and store must outlive it; the site holds no reference. */
struct http_site {
	const struct linkyd_config *cfg;
	const struct state_store *store;
	char password[HTTP_SECRET_MAX + 1]; /* http.password or the file's; "" with no user */
	char hostname[HTTP_HOST_MAX + 1];   /* ASCII, never empty */
	char mac[18];                       /* XX:XX:XX:XX:XX:XX, locally administered */
};

/* Set up site for cfg: password is http.password or what http.password_file holds (NULL
 * without authentication), hostname the machine's (NULL or junk gives "linkyd"). The MAC is a
 * hash of the host name and http.listen: stable across restarts, one per server. */
void http_site_init(struct http_site *site, const struct linkyd_config *cfg,
                    const struct state_store *store, const char *password, const char *hostname);

/* Wipe the password. */
void http_site_done(struct http_site *site);

/* Answer req at now_ms (loop_now_ms(), for the age of frames): always a response, 500 when
 * out of memory or over HTTP_BODY_MAX. XML and metrics bodies are ASCII. */
void http_respond(const struct http_site *site, const struct http_request *req, uint64_t now_ms,
                  struct http_response *ret);

void http_response_done(struct http_response *r);

/* ---- the server (http/server.c) ------------------------------------------------------------ */

struct http_server;

/* Serve store from loop as cfg->http says, at start and at each reload, into *s (NULL: none
 * yet). No http.listen: the server (if any) stops. The same address and limits: the server
 * carries on, its connections kept, with cfg's other settings (cfg is referenced, the old one
 * dropped). A new address: a new server is started, then the old one freed, so that a failure
 * leaves *s as it was. New limits on the same address: the old one goes first (it holds the
 * port), then *s is NULL if the new one fails. Loads libmicrohttpd on first use (with GnuTLS
 * it adds 2.7 MiB of RSS that a daemon without HTTP never pays). Logs why it fails; returns 0
 * or -errno. */
int http_server_apply(struct loop *loop, const struct linkyd_config *cfg,
                      const struct state_store *store, struct http_server **s);

/* NULL-safe; returns NULL. Closes every connection. */
struct http_server *http_server_free(struct http_server *s);

#endif
