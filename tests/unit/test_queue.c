/* SPDX-License-Identifier: MIT */
/*
 * The MQTT front end's queue (src/mqtt/queue.c): order, kinds, removal anywhere, acks in any
 * order, requeue after a loss, and live messages dropped with the connection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/mqtt/queue.h"

static void
push(struct queue *q, const char *topic, int n, enum msg_kind kind)
{
	char payload[16];

	snprintf(payload, sizeof(payload), "%d", n);
	assert_int_equal(queue_push(q, topic, payload, strlen(payload), false, 1, kind), 0);
}

/* Payloads are bytes, not strings: the queue keeps no NUL after them. */
static int
payload_at(const struct queue *q, size_t i)
{
	const struct msg *msg = queue_at(q, i);
	char buf[16];

	snprintf(buf, sizeof(buf), "%.*s", (int) msg->len, msg->payload);
	return atoi(buf);
}

/* Hand the first n messages over with tokens 1.., as mqtt.c's pump() does. */
static void
send_first(struct queue *q, size_t n)
{
	for (size_t i = q->sent_upto; i < n; i++) {
		queue_at(q, i)->inflight = true;
		queue_at(q, i)->token = (int) i + 1;
		q->inflight++;
	}
	q->sent_upto = n;
}

static void
test_order_and_kinds(void **state)
{
	struct queue q;
	(void) state;

	assert_int_equal(queue_init(&q, 8), 0);
	push(&q, "f", 0, MSG_FRAME);
	push(&q, "s", 1, MSG_STATE);
	push(&q, "l", 2, MSG_LIVE);
	push(&q, "f", 3, MSG_FRAME);
	assert_int_equal(q.count, 4);
	assert_int_equal(q.n[MSG_FRAME], 2);
	assert_int_equal(q.n[MSG_STATE], 1);
	assert_int_equal(q.n[MSG_LIVE], 1);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(payload_at(&q, i), (int) i);
	assert_int_equal(queue_find(&q, MSG_FRAME, NULL), 0);
	assert_int_equal(queue_find(&q, MSG_STATE, "s"), 1);
	assert_int_equal(queue_find(&q, MSG_STATE, "other"), 4);
	queue_done(&q);
}

static void
test_remove_anywhere_wraps(void **state)
{
	struct queue q;
	(void) state;

	assert_int_equal(queue_init(&q, 5), 0);
	/* Push the head round the ring first. */
	for (int i = 0; i < 4; i++)
		push(&q, "f", i, MSG_FRAME);
	queue_remove(&q, 0);
	queue_remove(&q, 0);
	for (int i = 4; i < 7; i++)
		push(&q, "f", i, MSG_FRAME);
	assert_int_equal(q.count, 5);
	send_first(&q, 3);
	queue_remove(&q, 1); /* in flight: forgotten */
	assert_int_equal(q.count, 4);
	assert_int_equal(q.sent_upto, 2);
	assert_int_equal(q.inflight, 2);
	assert_int_equal(payload_at(&q, 0), 2);
	assert_int_equal(payload_at(&q, 1), 4);
	assert_int_equal(payload_at(&q, 2), 5);
	assert_int_equal(payload_at(&q, 3), 6);
	queue_remove(&q, 3); /* the last, not sent */
	assert_int_equal(q.sent_upto, 2);
	assert_int_equal(q.n[MSG_FRAME], 3);
	queue_done(&q);
}

static void
test_acks_out_of_order(void **state)
{
	struct queue q;
	(void) state;

	assert_int_equal(queue_init(&q, 8), 0);
	for (int i = 0; i < 4; i++)
		push(&q, "f", i, MSG_FRAME);
	send_first(&q, 4);
	/* The second done first: nothing leaves until the first is. */
	assert_true(queue_ack(&q, 2, true));
	assert_int_equal(q.count, 4);
	assert_false(queue_ack(&q, 99, true)); /* unknown token */
	assert_true(queue_ack(&q, 1, true));
	assert_int_equal(q.count, 2);
	assert_int_equal(payload_at(&q, 0), 2);
	assert_int_equal(q.sent_upto, 2);
	/* Refused: sent again from there. */
	assert_false(queue_ack(&q, 3, false));
	assert_int_equal(q.sent_upto, 0);
	assert_int_equal(q.inflight, 1);
	queue_done(&q);
}

/* A broker that stalls: paho fails every publish in flight, one after the other. The answers
 * behind the first refusal must still be found (they were not: the window stayed full for good,
 * and after the loss those messages were never sent again, lost without a word). */
static void
test_refusals_behind_a_refusal(void **state)
{
	struct queue q;
	(void) state;

	assert_int_equal(queue_init(&q, 8), 0);
	for (int i = 0; i < 4; i++)
		push(&q, "f", i, MSG_FRAME);
	send_first(&q, 4);
	assert_false(queue_ack(&q, 1, false));
	assert_int_equal(q.sent_upto, 0);
	assert_false(queue_ack(&q, 3, false)); /* behind sent_upto now */
	assert_false(queue_ack(&q, 4, false));
	assert_int_equal(q.sent_upto, 0); /* not moved forward by a later refusal */
	assert_int_equal(q.inflight, 1);
	/* The loss: everything is to be sent again, token 2 included. */
	queue_requeue_inflight(&q);
	assert_int_equal(q.inflight, 0);
	for (size_t i = 0; i < q.count; i++)
		assert_false(queue_at(&q, i)->inflight);
	queue_done(&q);
}

static void
test_requeue_and_drop_live(void **state)
{
	struct queue q;
	(void) state;

	assert_int_equal(queue_init(&q, 8), 0);
	push(&q, "l", 0, MSG_LIVE);
	push(&q, "f", 1, MSG_FRAME);
	push(&q, "l", 2, MSG_LIVE);
	push(&q, "s", 3, MSG_STATE);
	push(&q, "l", 4, MSG_LIVE);
	send_first(&q, 3);
	queue_requeue_inflight(&q);
	assert_int_equal(q.inflight, 0);
	assert_int_equal(q.sent_upto, 0);
	for (size_t i = 0; i < q.count; i++)
		assert_false(queue_at(&q, i)->inflight);
	queue_drop_live(&q);
	assert_int_equal(q.count, 2);
	assert_int_equal(q.n[MSG_LIVE], 0);
	assert_int_equal(payload_at(&q, 0), 1);
	assert_int_equal(payload_at(&q, 1), 3);
	/* What is in flight stays: its ack is still to come. */
	push(&q, "l", 5, MSG_LIVE);
	send_first(&q, 3);
	queue_drop_live(&q);
	assert_int_equal(q.count, 3);
	assert_int_equal(q.sent_upto, 3);
	queue_done(&q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_and_kinds),
	    cmocka_unit_test(test_remove_anywhere_wraps),
	    cmocka_unit_test(test_acks_out_of_order),
	    cmocka_unit_test(test_refusals_behind_a_refusal),
	    cmocka_unit_test(test_requeue_and_drop_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
