/* SPDX-License-Identifier: MIT */
/*
 * The MQTT front end's own message queue, private to src/mqtt/: a bounded ring of messages kept
 * in order until the backend wrote them (QoS 0) or the broker acknowledged them (QoS 1/2).
 */
#ifndef LINKYD_MQTT_QUEUE_H
#define LINKYD_MQTT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

/* What a message is decides its bound and whether dropping it counts (mqtt.c). */
enum msg_kind {
	MSG_FRAME, /* a frame: within the configured bound, the oldest unsent dropped, counted */
	MSG_STATE, /* availability, mode, diagnostics: a newer one on its topic replaces it */
	MSG_LIVE,  /* discovery, label topics, derived values: dropped with the connection */
	MSG_KINDS,
};

struct msg {
	char *topic;
	char *payload;
	size_t len;
	bool retain;
	int qos;
	enum msg_kind kind;
	bool done;
	bool inflight;
	int token;
};

/* A ring; its first sent_upto messages were handed to the backend, inflight of them unanswered
 * yet; n[kind] of each kind. */
struct queue {
	struct msg *ring;
	size_t cap, head, count, sent_upto;
	size_t n[MSG_KINDS];
	unsigned inflight;
};

/* Room for cap messages. Returns 0 or -ENOMEM. */
int queue_init(struct queue *q, size_t cap);

/* Free the messages left and the ring. */
void queue_done(struct queue *q);

/* The i-th message from the oldest, i < count. */
struct msg *queue_at(const struct queue *q, size_t i);

/* Append a copy of the message; the queue must not be full. Returns 0 or -ENOMEM. */
int queue_push(struct queue *q, const char *topic, const void *payload, size_t len, bool retain,
               int qos, enum msg_kind kind);

/* The index of the oldest message of kind, or of kind on topic when topic is not NULL; count
 * when there is none. */
size_t queue_find(const struct queue *q, enum msg_kind kind, const char *topic);

/* Drop the i-th message, whatever its state; the others keep their order. */
void queue_remove(struct queue *q, size_t i);

/* The backend's answer for the message sent with token: done when ok, else to be sent again.
 * Returns true when a message is done. */
bool queue_ack(struct queue *q, int token, bool ok);

/* Drop the live messages not in flight: a reconnect sends them again or newer ones. */
void queue_drop_live(struct queue *q);

/* Forget what was in flight: it will all be sent again. */
void queue_requeue_inflight(struct queue *q);

#endif
