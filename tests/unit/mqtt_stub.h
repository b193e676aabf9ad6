/* SPDX-License-Identifier: MIT */
/*
 * A stand-in for the MQTT backend (src/mqtt/backend.h), linked instead of src/mqtt/paho.c the
 * way the stubs of mosquitto's test/unit/ stand in for its library: it records what the front end
 * (src/mqtt/mqtt.c) hands over and lets a test play the broker's part by injecting events.
 * Link tests/unit/mqtt_stub.c with the linkyd_mqtt library.
 *
 * Events injected are taken at the loop's next turn (loop_turn()): inject, turn, then check.
 * A sketch for a test of something that publishes through struct mqtt:
 *
 *	mqtt_new(loop, &cfg, "id", "base/status", &cbs, NULL, &m);
 *	struct backend *b = mqtt_stub_last();
 *	mqtt_stub_connected(b);                  the broker accepts
 *	loop_turn(loop, 0);                      MQTT_CONNECTED now
 *	... publish through the code under test ...
 *	n = mqtt_stub_count(b, "base/energy");   how many went out on a topic
 *	msg = mqtt_stub_last_on(b, "base/energy");
 */
#ifndef LINKYD_TESTS_MQTT_STUB_H
#define LINKYD_TESTS_MQTT_STUB_H

#include <stdbool.h>
#include <stddef.h>

#include "../../src/mqtt/backend.h"

/* A message the front end handed over, in the order it did. */
struct stub_message {
	char *topic;
	char *payload; /* NUL-terminated copy */
	size_t len;
	int qos;
	bool retain;
	int token; /* 0 when no outcome was asked for (e.g. the retained "online") */
};

/* The backend created last (the one a test's mqtt_new() made), or NULL. */
struct backend *mqtt_stub_last(void);

/* ---- what the front end did ------------------------------------------------------------ */

/* Messages handed over so far (backend_send() calls that were accepted). */
size_t mqtt_stub_sent_count(const struct backend *b);
const struct stub_message *mqtt_stub_sent(const struct backend *b, size_t i);
/* How many went out on topic; the last of them, or NULL. */
size_t mqtt_stub_count(const struct backend *b, const char *topic);
const struct stub_message *mqtt_stub_last_on(const struct backend *b, const char *topic);
/* Forget the messages recorded so far (tokens keep counting). */
void mqtt_stub_clear(struct backend *b);

/* backend_connect() calls, and the options of the last one (its strings are copies). */
unsigned mqtt_stub_connects(const struct backend *b);
const struct backend_options *mqtt_stub_options(const struct backend *b);
/* backend_disconnect() calls. */
unsigned mqtt_stub_disconnects(const struct backend *b);
/* Topics given to backend_subscribe(), in order (repeats included). */
size_t mqtt_stub_subscriptions(const struct backend *b);
const char *mqtt_stub_subscription(const struct backend *b, size_t i);
/* What the front end last told backend_before_wait(): whether acks must wake the loop. */
bool mqtt_stub_wake_on_ack(const struct backend *b);

/* ---- the broker's part ----------------------------------------------------------------- */

/* Make backend_send() fail with err (e.g. -ENOTCONN), or succeed again with 0. */
void mqtt_stub_refuse_sends(struct backend *b, int err);

/* Queue an event for the front end (strings copied). The helpers below build the usual ones. */
void mqtt_stub_push(struct backend *b, const struct backend_event *ev);
void mqtt_stub_connected(struct backend *b);
void mqtt_stub_connect_failed(struct backend *b, enum backend_failure failure, int code);
void mqtt_stub_lost(struct backend *b);
void mqtt_stub_disconnected(struct backend *b);
/* Acknowledge the message sent with token (ok) or refuse it. */
void mqtt_stub_ack(struct backend *b, int token, bool ok);
/* Acknowledge every message handed over and not acknowledged yet, oldest first. Returns how
 * many. */
size_t mqtt_stub_ack_all(struct backend *b);
void mqtt_stub_message(struct backend *b, const char *topic, const char *payload, bool retained);

#endif
