/* SPDX-License-Identifier: MIT */
/*
 * The MQTT publisher, inside the event loop: publish() only queues; the queue is sent in order
 * while connected and kept (bounded, oldest dropped first) while the broker is away, so that a
 * broker restart loses nothing. Availability "<status_topic>" = online (retained) on every
 * connect, offline as the last will and on clean shutdown.
 */
#ifndef LINKYD_MQTT_H
#define LINKYD_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "linkyd/config.h"
#include "linkyd/loop.h"

struct mqtt;

enum mqtt_state {
	MQTT_CONNECTING, /* first attempt, or reconnecting after a loss */
	MQTT_CONNECTED,
	MQTT_CLOSED, /* after mqtt_close() completed or timed out */
};

struct mqtt_stats {
	uint64_t queued;  /* accepted by the mqtt_publish*() functions */
	uint64_t sent;    /* acknowledged (QoS 1/2) or written (QoS 0) */
	uint64_t dropped; /* frames only: never sent because the queue was full */
	size_t pending;   /* in the queue now (acks are taken when the loop wakes) */
};

/* What kind of thing stopped a connection, for advice on the fix. */
enum mqtt_failure {
	MQTT_FAIL_NETWORK,  /* the name, the route, the port: nothing that answers MQTT there */
	MQTT_FAIL_PROTOCOL, /* something answered, but not an MQTT broker as the URL says */
	MQTT_FAIL_TLS,      /* the TLS handshake: certificates, the CA, the name in the URL */
	MQTT_FAIL_AUTH,     /* the broker refused the user name, the password or the access */
};

struct mqtt_callbacks {
	void (*on_state)(enum mqtt_state state, void *userdata);
	/* An attempt to connect failed (another follows after a back-off): why, in the words
	 * the log uses. May be NULL. */
	void (*on_connect_failed)(enum mqtt_failure kind, const char *why, void *userdata);
	/* A message on a topic given to mqtt_subscribe(), delivered in the loop (never from
	 * paho's threads); retained: the broker's stored copy, sent on subscribing. May be NULL. */
	void (*on_message)(const char *topic, const void *payload, size_t len, bool retained,
	                   void *userdata);
};

/* Create a client and start connecting; one client per meter, so that each meter has its own
 * last will on its own status_topic. client_id must be unique on the broker (at most 23
 * characters for MQTT 3.1.1 brokers). status_topic NULL: no availability at all (no last will,
 * no online, no offline), for a client that only looks (linkyd --doctor). Returns 0 or -errno
 * (-EINVAL with a logged reason). */
int mqtt_new(struct loop *loop, const struct mqtt_config *cfg, const char *client_id,
             const char *status_topic, const struct mqtt_callbacks *cb, void *userdata,
             struct mqtt **ret_mqtt);

/* Queue a frame (topic and payload are copied) at the configured QoS. The queue keeps
 * cfg->queue frames; beyond, the oldest not yet handed to the connection is dropped and counted
 * (mqtt_stats().dropped), or the new one when all are (a bound below the window in flight): the
 * count is the frames that never reach the broker. Returns 0, -ENOMEM, or -EINVAL for an empty
 * topic or one with a wildcard (+, #). */
int mqtt_publish(struct mqtt *m, const char *topic, const void *payload, size_t len, bool retain);

/* The same for a state message (the meter's mode, its diagnostics): kept apart from the frames
 * during an outage, never counted as a dropped frame, and replaced in the queue by a newer one on
 * the same topic, the latest being all that matters. */
int mqtt_publish_state(struct mqtt *m, const char *topic, const void *payload, size_t len,
                       bool retain);

/* The same at QoS qos (negative: the configured one), but only while connected (else
 * -ENOTCONN; -ENOBUFS when LIVE_QUEUE such messages wait already), beside the frames' share of
 * the queue: for what a reconnect sends again anyway
 * (discovery configs) or a later message supersedes (per-label topics, derived values), which
 * must not crowd the frames out of the queue during an outage. */
int mqtt_publish_live(struct mqtt *m, const char *topic, const void *payload, size_t len,
                      bool retain, int qos);

/* Subscribe (QoS 1) to topic, now if connected and again on every reconnect: sessions are
 * clean, the broker forgets subscriptions with the connection. At most MQTT_SUBSCRIPTIONS
 * topics. Returns 0, -ENOMEM or -ENOSPC. */
#define MQTT_SUBSCRIPTIONS 4
int mqtt_subscribe(struct mqtt *m, const char *topic);

enum mqtt_state mqtt_state(const struct mqtt *m);
struct mqtt_stats mqtt_stats(const struct mqtt *m);

/* Publish offline, flush the queue and disconnect, within timeout_ms; on_state(MQTT_CLOSED)
 * follows. */
void mqtt_close(struct mqtt *m, unsigned timeout_ms);

/* NULL-safe; returns NULL. */
struct mqtt *mqtt_free(struct mqtt *m);

/* MQTT 3.1.1 strings (user name, password, client id) have a 16-bit length. */
#define MQTT_STRING_MAX   65535
#define MQTT_PASSWORD_MAX MQTT_STRING_MAX

/* Read the broker password from path: a regular file with no access for group and others, at
 * most MQTT_PASSWORD_MAX bytes on one line (a final newline is not part of it), not empty.
 * Returns 0 with *ret_password malloc'ed (wipe it before free()), or -errno with err holding one
 * line that names path. mqtt_new() calls it when cfg->password_file is set. */
int mqtt_password_load(const char *path, char **ret_password, char *err, size_t err_size);

#endif
