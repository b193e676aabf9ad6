/* SPDX-License-Identifier: MIT */
/*
 * The MQTT publisher's own message queue, private to src/mqtt/: a bounded ring of messages kept
 * in order until paho wrote them (QoS 0) or the broker acknowledged them (QoS 1/2).
 */
#ifndef LINKYD_MQTT_QUEUE_H
#define LINKYD_MQTT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

struct msg {
	char *topic;
	char *payload;
	size_t len;
	bool retain;
	int qos;
	bool extra; /* outside the frames' bound (discovery configs) */
	bool done;
	bool inflight;
	int token;
};

/* A ring; its first sent_upto messages were handed to paho, inflight of them unanswered yet. */
struct queue {
	struct msg *ring;
	size_t cap, head, count, sent_upto;
	size_t extra; /* messages with extra set */
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
               int qos, bool extra);

/* Drop the oldest message, whatever its state. */
void queue_pop_front(struct queue *q);

/* paho's answer for the message sent with token: done when ok, else to be sent again. Returns
 * true when a message is done. */
bool queue_ack(struct queue *q, int token, bool ok);

/* Drop the extra messages not in flight: a reconnect sends them again or newer ones. */
void queue_drop_extra(struct queue *q);

/* Forget what was in flight: it will all be sent again. */
void queue_requeue_inflight(struct queue *q);

#endif
