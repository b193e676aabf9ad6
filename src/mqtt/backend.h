/* SPDX-License-Identifier: MIT */
/*
 * What the MQTT front end (mqtt.c: queue, window, back-off, availability) needs from a client
 * library, in linkyd's own types, private to src/mqtt/ and its tests. paho.c implements it on
 * paho.mqtt.c's MQTTAsync; the unit tests link tests/unit/mqtt_stub.c instead, at link time the
 * way mosquitto's test/unit/ stubs do, so there are no function pointers to go through.
 *
 * Threads: every function here is called from the loop's thread. The library's threads only
 * queue events, and backend_fd() turns readable when one needs the loop at once. Acks
 * (BACKEND_SENT, BACKEND_SEND_FAILED) do not wake the loop unless backend_before_wait() said
 * something waits on them: the loop takes them with the rest whenever it wakes anyway.
 */
#ifndef LINKYD_MQTT_BACKEND_H
#define LINKYD_MQTT_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

struct backend;

struct backend_message {
	const char *topic;
	const void *payload;
	size_t len;
	int qos;
	bool retain;
};

/* How to connect, read during backend_connect() only. */
struct backend_options {
	const char *username, *password; /* NULL: none */
	int keepalive;                   /* seconds */
	int connect_timeout;         /* seconds, from the first packet to the broker's CONNACK */
	struct backend_message will; /* the last will; topic NULL: none */
	/* mqtts:// only. ca_file NULL: the system's trust store. */
	const char *ca_file, *cert_file, *key_file;
	bool verify_hostname;
};

/* Why a connection attempt failed. */
enum backend_failure {
	BACKEND_FAIL_NO_NAME,     /* the host name does not resolve; code: getaddrinfo()'s EAI_* */
	BACKEND_FAIL_REFUSED,     /* nothing listens on the port */
	BACKEND_FAIL_UNREACHABLE, /* code: errno (EHOSTUNREACH, ENETUNREACH...) */
	BACKEND_FAIL_TIMEOUT,     /* the host did not answer TCP within the timeout */
	BACKEND_FAIL_NO_CONNACK,  /* TCP accepted, no CONNACK within connect_timeout */
	BACKEND_FAIL_CLOSED,      /* TCP accepted, closed by the other end before its CONNACK */
	BACKEND_FAIL_TLS,         /* TCP accepted, the TLS handshake failed */
	BACKEND_FAIL_CONNACK,     /* the broker said no; code: its CONNACK return code (1..5) */
	BACKEND_FAIL_OTHER,       /* code: the library's, for backend_strerror() */
};

enum backend_event_type {
	BACKEND_CONNECTED,
	BACKEND_CONNECT_FAILED, /* failure, code */
	BACKEND_LOST,           /* the connection dropped; unacknowledged messages are lost */
	BACKEND_SENT,           /* token: acknowledged (QoS 1/2) or written (QoS 0) */
	BACKEND_SEND_FAILED,    /* token */
	BACKEND_MESSAGE,        /* topic, payload, len, retained: on a subscription */
	BACKEND_DISCONNECTED,   /* backend_disconnect() finished, cleanly or not */
	BACKEND_OVERFLOW,       /* events were lost, acks among them: resend what is in flight */
};

struct backend_event {
	enum backend_event_type type;
	enum backend_failure failure;
	int code;
	int token;
	char *topic, *payload; /* MESSAGE: owned by the event, payload NUL-terminated */
	size_t len;
	bool retained;
};

/* Create a client for url ("mqtt://host[:port]" or "mqtts://host[:port]") with client_id, not
 * connected yet; both are copied. Returns 0, or -errno with the reason logged. */
int backend_new(const char *url, const char *client_id, struct backend **ret_backend);

/* Disconnect at once if need be, end the library's work for this client (its threads may serve
 * others), free the events not taken. NULL-safe; returns NULL. */
struct backend *backend_free(struct backend *b);

/* Readable when an event needs the loop (watch it for EPOLLIN). The loop reads nothing from it:
 * backend_next_event() does. */
int backend_fd(const struct backend *b);

/* Start connecting with o. The outcome arrives as BACKEND_CONNECTED or BACKEND_CONNECT_FAILED,
 * even when the library refuses at once. */
void backend_connect(struct backend *b, const struct backend_options *o);

/* Hand a message over (copied). With ret_token, its outcome arrives as BACKEND_SENT or
 * BACKEND_SEND_FAILED with *ret_token; without, nothing is reported. Returns 0, -ENOTCONN
 * (not connected) or -EINVAL (refused for another reason). */
int backend_send(struct backend *b, const struct backend_message *msg, int *ret_token);

/* Subscribe to topic at QoS 1; messages arrive as BACKEND_MESSAGE. Returns 0 or -errno. */
int backend_subscribe(struct backend *b, const char *topic);

/* Disconnect cleanly within timeout_ms; BACKEND_DISCONNECTED follows in every case. */
void backend_disconnect(struct backend *b, int timeout_ms);

/* Take the oldest event. Returns false when there is none. */
bool backend_next_event(struct backend *b, struct backend_event *ret_ev);

/* Free what an event owns. */
void backend_event_done(struct backend_event *ev);

/* The loop is about to wait: from now on acks wake it only if wake_on_ack. Returns false, and
 * the loop must not wait yet, when events came in since the last backend_next_event(). */
bool backend_before_wait(struct backend *b, bool wake_on_ack);

/* The library's words for one of its codes (BACKEND_FAIL_OTHER). */
const char *backend_strerror(const struct backend *b, int code);

#endif
