/* SPDX-License-Identifier: MIT */
/*
 * Why a TCP connection to a broker fails, which paho does not say: it reports a refused port, an
 * unreachable host and a failed TLS handshake with the same words, and a host that never answers
 * like a listener that never sends CONNACK. Private to src/mqtt/.
 */
#ifndef LINKYD_MQTT_PROBE_H
#define LINKYD_MQTT_PROBE_H

#include <stdbool.h>

#include "backend.h"

struct probe_result {
	bool accepted;                /* a TCP connection was made (and closed at once) */
	enum backend_failure failure; /* otherwise why: NO_NAME, REFUSED, UNREACHABLE or TIMEOUT */
	int code;                     /* NO_NAME: EAI_*; UNREACHABLE: errno */
};

/* Resolve host and try a TCP connection to each address of port until one is accepted, each
 * within timeout_ms. Blocks (getaddrinfo() above all): for a thread of its own, never the loop.
 * Fills *ret. */
void probe_tcp(const char *host, const char *port, int timeout_ms, struct probe_result *ret);

/* Split "host:port" or "[v6]:port" (paho's form, the scheme removed) into ret_host and ret_port,
 * both malloc'ed. Returns 0, -EINVAL or -ENOMEM. */
int probe_split(const char *hostport, char **ret_host, char **ret_port);

#endif
