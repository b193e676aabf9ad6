/* SPDX-License-Identifier: MIT */
/*
 * The MQTT front end's message queue: a ring that keeps the messages in order, knows which were
 * handed to the backend, and lets one go only once it is done. It sends nothing: mqtt.c does.
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
		queue_remove(q, 0);
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
           int qos, enum msg_kind kind)
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
	msg->kind = kind;
	q->n[kind]++;
	q->count++;
	return 0;
}

size_t
queue_find(const struct queue *q, enum msg_kind kind, const char *topic)
{
	for (size_t i = 0; i < q->count; i++) {
		const struct msg *msg = queue_at(q, i);

		if (msg->kind == kind && (!topic || strcmp(msg->topic, topic) == 0))
			return i;
	}
	return q->count;
}

void
queue_remove(struct queue *q, size_t i)
{
	struct msg *msg = queue_at(q, i);

	if (msg->inflight)
		q->inflight--;
	q->n[msg->kind]--;
	msg_free(msg);
	if (i < q->sent_upto)
		q->sent_upto--;
	/* Close the gap from the front: what is dropped is old, so the front part is the short
	 * one (the oldest frame sits behind a few state or live messages at most). */
	for (; i > 0; i--)
		*queue_at(q, i) = *queue_at(q, i - 1);
	*queue_at(q, 0) = (struct msg){0};
	q->head = (q->head + 1) % q->cap;
	q->count--;
}

bool
queue_ack(struct queue *q, int token, bool ok)
{
	bool done = false;

	/* The whole queue, not only up to sent_upto: after a refusal sent_upto goes back, and the
	 * messages behind it are still in flight, their answers still to come. */
	for (size_t i = 0; i < q->count; i++) {
		struct msg *msg = queue_at(q, i);

		if (!msg->inflight || msg->token != token)
			continue;
		msg->inflight = false;
		q->inflight--;
		if (ok) {
			msg->done = true;
			done = true;
		} else if (i < q->sent_upto) {
			/* Refused while connected: send it again from there, keeping the order. */
			q->sent_upto = i;
		}
		break;
	}
	while (q->count > 0 && queue_at(q, 0)->done)
		queue_remove(q, 0);
	return done;
}

void
queue_requeue_inflight(struct queue *q)
{
	for (size_t i = 0; i < q->count; i++)
		queue_at(q, i)->inflight = false;
	q->inflight = 0;
	q->sent_upto = 0;
}

void
queue_drop_live(struct queue *q)
{
	size_t kept = 0, n = q->count, upto = q->sent_upto;

	/* Slide the others down over them, in order: the ring stays contiguous from head. */
	for (size_t i = 0; i < n; i++) {
		struct msg *msg = queue_at(q, i);

		if (msg->kind == MSG_LIVE && !msg->inflight) {
			msg_free(msg);
			q->n[MSG_LIVE]--;
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
