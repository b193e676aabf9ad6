/* SPDX-License-Identifier: MIT */
/*
 * The MQTT publisher's message queue: a ring that keeps the messages in order, knows which were
 * handed to paho, and lets one go only once it is done. No paho here: mqtt.c sends.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"

int
queue_init(struct queue *q, size_t cap)
{
	*q = (struct queue){.cap = cap};
	q->ring = calloc(cap, sizeof(*q->ring));
	return q->ring ? 0 : -ENOMEM;
}

void
queue_done(struct queue *q)
{
	while (q->ring && q->count > 0)
		queue_pop_front(q);
	free(q->ring);
	*q = (struct queue){0};
}

struct msg *
queue_at(const struct queue *q, size_t i)
{
	return &q->ring[(q->head + i) % q->cap];
}

static void
msg_free(struct msg *msg)
{
	free(msg->topic);
	free(msg->payload);
	*msg = (struct msg){0};
}

int
queue_push(struct queue *q, const char *topic, const void *payload, size_t len, bool retain,
           int qos, bool extra)
{
	struct msg *msg = queue_at(q, q->count);

	msg->topic = strdup(topic);
	msg->payload = malloc(len ? len : 1);
	if (!msg->topic || !msg->payload) {
		msg_free(msg);
		return -ENOMEM;
	}
	memcpy(msg->payload, payload, len);
	msg->len = len;
	msg->retain = retain;
	msg->qos = qos;
	msg->extra = extra;
	q->extra += extra;
	q->count++;
	return 0;
}

void
queue_pop_front(struct queue *q)
{
	struct msg *msg = queue_at(q, 0);

	if (msg->inflight)
		q->inflight--;
	if (msg->extra)
		q->extra--;
	msg_free(msg);
	q->head = (q->head + 1) % q->cap;
	q->count--;
	if (q->sent_upto > 0)
		q->sent_upto--;
}

bool
queue_ack(struct queue *q, int token, bool ok)
{
	bool done = false;

	for (size_t i = 0; i < q->sent_upto; i++) {
		struct msg *msg = queue_at(q, i);

		if (!msg->inflight || msg->token != token)
			continue;
		msg->inflight = false;
		q->inflight--;
		if (ok) {
			msg->done = true;
			done = true;
		} else {
			/* Refused while connected: send it again from there, keeping the order. */
			q->sent_upto = i;
		}
		break;
	}
	while (q->count > 0 && queue_at(q, 0)->done)
		queue_pop_front(q);
	return done;
}

void
queue_requeue_inflight(struct queue *q)
{
	for (size_t i = 0; i < q->sent_upto; i++)
		queue_at(q, i)->inflight = false;
	q->inflight = 0;
	q->sent_upto = 0;
}

void
queue_drop_extra(struct queue *q)
{
	size_t kept = 0, n = q->count, upto = q->sent_upto;

	/* Slide the others down over them, in order: the ring stays contiguous from head. */
	for (size_t i = 0; i < n; i++) {
		struct msg *msg = queue_at(q, i);

		if (msg->extra && !msg->inflight) {
			msg_free(msg);
			q->extra--;
			q->count--;
			if (i < upto)
				q->sent_upto--;
			continue;
		}
		if (kept != i)
			*queue_at(q, kept) = *msg;
		kept++;
	}
	for (size_t i = kept; i < n; i++)
		*queue_at(q, i) = (struct msg){0};
}
