/* SPDX-License-Identifier: MIT */
/*
 * One request in, one response out: the method, then Basic authentication when a user is
 * configured, then the path. Nothing here touches a socket or a clock, so that the fuzzer and
 * the bench drive exactly what the server runs.
 *
 * Authentication protects every path. Domoticz (curl with CURLAUTH_BASIC|CURLAUTH_DIGEST) sends
 * no credentials until a 401 names Basic in WWW-Authenticate; pyecodevices (aiohttp) sends them
 * on every request: both work, and a wrong or malformed header gets the same challenge.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

#define XML_TYPE  "text/xml; charset=utf-8"
#define TEXT_TYPE "text/plain; charset=utf-8"
/* Prometheus' text exposition format, version 0.0.4. */
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define JSON_TYPE    "application/json"

/* A meter's host name as the device's config_hostname: letters, digits, '-', '.', '_'. */
static void
set_hostname(struct http_site *site, const char *host)
{
	size_t n = 0;

	for (; host && *host && n < HTTP_HOST_MAX; host++)
		if ((*host >= 'a' && *host <= 'z') || (*host >= 'A' && *host <= 'Z') ||
		    (*host >= '0' && *host <= '9') || strchr("-._", *host))
			site->hostname[n++] = *host;
	site->hostname[n] = '\0';
	if (n == 0)
		(void) snprintf(site->hostname, sizeof(site->hostname), "linkyd");
}

/* 02:xx:xx:xx:xx:xx, locally administered and unicast, from 40 bits of FNV-1a over the host
 * name and the listen address: Home Assistant's device and unique_ids hang on it. */
static void
set_mac(struct http_site *site, const char *host, const char *listen)
{
	uint64_t h = 14695981039346656037u;
	const char *parts[] = {host ? host : "", "\n", listen ? listen : ""};

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		for (const char *s = parts[i]; *s; s++)
			h = (h ^ (unsigned char) *s) * 1099511628211u;
	(void) snprintf(site->mac, sizeof(site->mac), "02:%02X:%02X:%02X:%02X:%02X",
	                (unsigned) (h >> 32) & 0xff, (unsigned) (h >> 24) & 0xff,
	                (unsigned) (h >> 16) & 0xff, (unsigned) (h >> 8) & 0xff,
	                (unsigned) h & 0xff);
}

void
http_site_init(struct http_site *site, const struct linkyd_config *cfg,
               const struct state_store *store, const char *password, const char *hostname)
{
	*site = (struct http_site){.cfg = cfg, .store = store};
	if (cfg->http.username && password)
		(void) snprintf(site->password, sizeof(site->password), "%s", password);
	set_hostname(site, hostname);
	set_mac(site, hostname, cfg->http.listen);
}

void
http_site_done(struct http_site *site)
{
	explicit_bzero(site->password, sizeof(site->password));
}

/* ---- authentication --------------------------------------------------------------------- */

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decode n bytes of base64 (padding optional) into out, at most size - 1 bytes, NUL-ended.
 * Returns the length, or -1 for anything that is not base64 or does not fit. */
static int
b64_decode(const char *s, size_t n, char *out, size_t size)
{
	unsigned acc = 0, bits = 0;
	size_t len = 0, pad = 0;

	while (n > 0 && s[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	if (pad && (n + pad) % 4)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value((unsigned char) s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned) v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (len + 1 >= size)
				return -1;
			out[len++] = (char) ((acc >> bits) & 0xff);
		}
	}
	/* A lone character left over carries less than a byte. */
	if (bits >= 6)
		return -1;
	out[len] = '\0';
	return (int) len;
}

/* Compare without an early exit, so that the time taken tells nothing of where a guess
 * differs. */
static bool
same(const char *a, size_t an, const char *b)
{
	size_t bn = strlen(b);
	unsigned char d = an != bn;

	for (size_t i = 0; i < an; i++)
		d |= (unsigned char) (a[i] ^ b[i < bn ? i : 0]);
	return d == 0 && bn > 0;
}

/* Whether header ("Basic <base64 of user:password>") holds the configured credentials. */
static bool
authorised(const struct http_site *site, const char *header)
{
	char creds[2 * HTTP_SECRET_MAX + 2];
	const char *colon, *token;
	size_t n;
	int len;
	bool ok;

	if (!header || strncasecmp(header, "Basic", 5) != 0 ||
	    (header[5] != ' ' && header[5] != '\t'))
		return false;
	token = header + 5 + strspn(header + 5, " \t");
	n = strcspn(token, " \t");
	if (token[n + strspn(token + n, " \t")] != '\0')
		return false;
	len = b64_decode(token, n, creds, sizeof(creds));
	colon = len > 0 ? memchr(creds, ':', (size_t) len) : NULL;
	if (!colon)
		return false;
	ok = same(creds, (size_t) (colon - creds), site->cfg->http.username) &
	     same(colon + 1, (size_t) (creds + len - colon - 1), site->password);
	explicit_bzero(creds, sizeof(creds));
	return ok;
}

/* ---- routing ------------------------------------------------------------------------------ */

static void
text(struct http_response *r, unsigned status, const char *body)
{
	*r = (struct http_response){.status = status, .content_type = TEXT_TYPE};
	r->body = strdup(body);
	r->len = r->body ? strlen(body) : 0;
}

void
http_respond(const struct http_site *site, const struct http_request *req, uint64_t now_ms,
             struct http_response *ret)
{
	struct http_buf b = {0};
	const char *p = req->path;

	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		text(ret, 405, "method not allowed: GET or HEAD\n");
		ret->allow = true;
		return;
	}
	if (site->cfg->http.username && !authorised(site, req->authorization)) {
		text(ret, 401, "authentication required\n");
		ret->challenge = true;
		return;
	}
	*ret = (struct http_response){.status = 200, .content_type = XML_TYPE};
	if (strcmp(p, "/status.xml") == 0) {
		eco_status_xml(site, &b);
	} else if (strcmp(p, "/protect/settings/teleinfo1.xml") == 0) {
		eco_teleinfo_xml(site, 1, &b);
	} else if (strcmp(p, "/protect/settings/teleinfo2.xml") == 0) {
		eco_teleinfo_xml(site, 2, &b);
	} else if (strcmp(p, "/metrics") == 0) {
		ret->content_type = METRICS_TYPE;
		metrics_text(site, now_ms, &b);
	} else if (strcmp(p, "/status.json") == 0) {
		ret->content_type = JSON_TYPE;
		status_json(site, now_ms, &b);
	} else if (strcmp(p, "/") == 0) {
		ret->content_type = TEXT_TYPE;
		buf_puts(&b,
		         "linkyd " LINKYD_VERSION ": /status.xml /protect/settings/teleinfo1.xml "
		         "/protect/settings/teleinfo2.xml /metrics /status.json\n");
	} else {
		text(ret, 404, "not found\n");
		return;
	}
	if (b.failed) {
		buf_free(&b);
		text(ret, 500, "response too large or out of memory\n");
		return;
	}
	ret->body = b.data;
	ret->len = b.len;
}

void
http_response_done(struct http_response *r)
{
	free(r->body);
	*r = (struct http_response){0};
}
