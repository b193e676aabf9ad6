/* SPDX-License-Identifier: MIT */
/*
 * The MQTT front end (src/mqtt/mqtt.c) on a real loop, with the backend stub (mqtt_stub.h) in
 * the broker's place: order, window, acks, requeue after a loss, frames against live and state
 * messages, the bound and its drop count, reconnect back-off, availability, close, and when acks
 * must wake the loop.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "linkyd/loop.h"
#include "linkyd/mqtt.h"

#include "mqtt_stub.h"

#define STATUS "base/status"

struct fixture {
	struct loop *loop;
	struct mqtt_config cfg;
	struct mqtt *m;
	struct backend *b;
	enum mqtt_state states[16];
	size_t n_states;
	char got_topic[64], got_payload[64];
	bool got_retained;
	unsigned messages;
};

static void
on_state(enum mqtt_state state, void *userdata)
{
	struct fixture *f = userdata;

	assert_true(f->n_states < 16);
	f->states[f->n_states++] = state;
}

static void
on_message(const char *topic, const void *payload, size_t len, bool retained, void *userdata)
{
	struct fixture *f = userdata;

	snprintf(f->got_topic, sizeof(f->got_topic), "%s", topic);
	snprintf(f->got_payload, sizeof(f->got_payload), "%.*s", (int) len, (const char *) payload);
	f->got_retained = retained;
	f->messages++;
}

static const struct mqtt_callbacks cbs = {.on_state = on_state, .on_message = on_message};

static void
start(struct fixture *f)
{
	assert_int_equal(mqtt_new(f->loop, &f->cfg, "linkyd-test", STATUS, &cbs, f, &f->m), 0);
	f->b = mqtt_stub_last();
	assert_non_null(f->b);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->loop = loop_new();
	assert_non_null(f->loop);
	f->cfg = (struct mqtt_config){
	    .url = "mqtt://127.0.0.1:1883", .keepalive = 30, .qos = 1, .queue_frames = 100};
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	mqtt_free(f->m);
	loop_free(f->loop);
	free(f);
	return 0;
}

/* One turn of the loop, not waiting: the front end takes what the stub queued. */
static void
turn(struct fixture *f)
{
	assert_true(loop_turn(f->loop, 0) >= 0);
}

static void
connect_ok(struct fixture *f)
{
	mqtt_stub_connected(f->b);
	turn(f);
	assert_int_equal(mqtt_state(f->m), MQTT_CONNECTED);
}

static void
publish(struct fixture *f, int i)
{
	char payload[16];

	snprintf(payload, sizeof(payload), "%d", i);
	assert_int_equal(mqtt_publish(f->m, "base", payload, strlen(payload), false), 0);
}

/* The frame payloads handed over from index first on, as numbers, into out; returns how many. */
static size_t
frames_sent(const struct fixture *f, size_t first, int *out, size_t max)
{
	size_t n = 0;

	for (size_t i = first; i < mqtt_stub_sent_count(f->b) && n < max; i++) {
		const struct stub_message *s = mqtt_stub_sent(f->b, i);

		if (strcmp(s->topic, "base") == 0)
			out[n++] = atoi(s->payload);
	}
	return n;
}

static void
test_online_then_frames_in_order(void **state)
{
	struct fixture *f = *state;
	const struct stub_message *s;
	int got[8];

	start(f);
	assert_int_equal(mqtt_stub_connects(f->b), 1);
	for (int i = 0; i < 3; i++)
		publish(f, i);
	assert_int_equal(mqtt_stub_sent_count(f->b), 0); /* not connected: queued */
	connect_ok(f);
	s = mqtt_stub_sent(f->b, 0);
	assert_string_equal(s->topic, STATUS);
	assert_string_equal(s->payload, "online");
	assert_true(s->retain);
	assert_int_equal(s->token, 0);
	assert_int_equal(frames_sent(f, 1, got, 8), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(got[i], i);
	assert_int_equal(mqtt_stats(f->m).pending, 3);
	assert_int_equal(f->n_states, 1);
	assert_int_equal(f->states[0], MQTT_CONNECTED);
}

static void
test_window_and_acks(void **state)
{
	struct fixture *f = *state;
	int got[200];

	start(f);
	connect_ok(f);
	mqtt_stub_clear(f->b);
	for (int i = 0; i < 100; i++)
		publish(f, i);
	/* 64 in flight; the rest waits for acks, which must wake the loop now. */
	assert_int_equal(mqtt_stub_sent_count(f->b), 64);
	turn(f);
	assert_true(mqtt_stub_wake_on_ack(f->b));
	assert_int_equal(mqtt_stub_ack_all(f->b), 64);
	turn(f);
	assert_int_equal(mqtt_stats(f->m).sent, 64);
	assert_int_equal(mqtt_stub_sent_count(f->b), 100);
	assert_false(mqtt_stub_wake_on_ack(f->b)); /* 36 in flight, nothing behind them */
	mqtt_stub_ack_all(f->b);
	turn(f);
	assert_int_equal(frames_sent(f, 0, got, 200), 100);
	for (int i = 0; i < 100; i++)
		assert_int_equal(got[i], i);
	assert_int_equal(mqtt_stats(f->m).sent, 100);
	assert_int_equal(mqtt_stats(f->m).pending, 0);
}

static void
test_refused_ack_resent(void **state)
{
	struct fixture *f = *state;
	int got[8];

	start(f);
	connect_ok(f);
	mqtt_stub_clear(f->b);
	for (int i = 0; i < 3; i++)
		publish(f, i);
	mqtt_stub_ack(f->b, mqtt_stub_sent(f->b, 1)->token, false);
	turn(f);
	/* Message 1 again; 2, still in flight, not twice. */
	assert_int_equal(frames_sent(f, 0, got, 8), 4);
	assert_int_equal(got[3], 1);
	mqtt_stub_ack_all(f->b);
	turn(f);
	assert_int_equal(mqtt_stats(f->m).pending, 0);
	assert_int_equal(mqtt_stats(f->m).sent, 3);
}

static void
test_requeue_after_loss(void **state)
{
	struct fixture *f = *state;
	int got[8];

	start(f);
	connect_ok(f);
	for (int i = 0; i < 3; i++)
		publish(f, i);
	mqtt_stub_ack(f->b, mqtt_stub_sent(f->b, 1)->token, true); /* frame 0 arrived */
	mqtt_stub_lost(f->b);
	turn(f);
	assert_int_equal(mqtt_state(f->m), MQTT_CONNECTING);
	assert_int_equal(mqtt_stats(f->m).pending, 2);
	publish(f, 3);
	mqtt_stub_clear(f->b);
	connect_ok(f);
	assert_string_equal(mqtt_stub_sent(f->b, 0)->payload, "online");
	assert_int_equal(frames_sent(f, 0, got, 8), 3);
	assert_int_equal(got[0], 1);
	assert_int_equal(got[1], 2);
	assert_int_equal(got[2], 3);
}

static void
test_live_messages(void **state)
{
	struct fixture *f = *state;
	int r = 0;

	start(f);
	/* Only while connected. */
	assert_int_equal(mqtt_publish_live(f->m, "base/x", "1", 1, false, -1), -ENOTCONN);
	connect_ok(f);
	assert_int_equal(mqtt_publish_live(f->m, "base/x", "1", 1, true, 0), 0);
	assert_int_equal(mqtt_stub_last_on(f->b, "base/x")->qos, 0);
	/* A stalled broker: live messages are bounded apart, and never push a frame out. */
	for (int i = 0; i < 400 && r == 0; i++)
		r = mqtt_publish_live(f->m, "base/x", "1", 1, false, -1);
	assert_int_equal(r, -ENOBUFS);
	publish(f, 7);
	assert_int_equal(mqtt_stats(f->m).dropped, 0);
	/* Lost with the connection: the frame is sent again, the live messages are not. */
	mqtt_stub_lost(f->b);
	turn(f);
	mqtt_stub_clear(f->b);
	connect_ok(f);
	mqtt_stub_ack_all(f->b);
	turn(f);
	mqtt_stub_ack_all(f->b);
	turn(f);
	assert_int_equal(mqtt_stub_count(f->b, "base"), 1);
	assert_int_equal(mqtt_stub_count(f->b, "base/x"), 0);
}

static void
test_wildcard_refused(void **state)
{
	struct fixture *f = *state;

	start(f);
	assert_int_equal(mqtt_publish(f->m, "base/+", "1", 1, false), -EINVAL);
	assert_int_equal(mqtt_publish(f->m, "", "1", 1, false), -EINVAL);
	assert_int_equal(mqtt_publish_state(f->m, "base/#", "1", 1, false), -EINVAL);
}

/* The defect behind test_daemon.py's QueueBound flakiness: a diagnostics message published
 * during the outage took a frame's place in the bound, and dropped in turn was counted as a
 * frame (9 frames delivered, 12 "frames" dropped out of 20). */
static void
test_bound_counts_frames_only(void **state)
{
	struct fixture *f = *state;
	int got[32];

	f->cfg.queue_frames = 5;
	start(f);
	assert_int_equal(mqtt_publish_state(f->m, "base/diagnostics", "{}", 2, false), 0);
	for (int i = 100; i < 120; i++)
		publish(f, i);
	assert_int_equal(mqtt_publish_state(f->m, "base/mode", "standard", 8, true), 0);
	assert_int_equal(mqtt_stats(f->m).dropped, 15);
	assert_int_equal(mqtt_stats(f->m).pending, 7);
	connect_ok(f);
	/* The 5 newest frames, in order, and both states. */
	assert_int_equal(frames_sent(f, 0, got, 32), 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(got[i], 115 + i);
	assert_int_equal(mqtt_stub_count(f->b, "base/diagnostics"), 1);
	assert_int_equal(mqtt_stub_count(f->b, "base/mode"), 1);
}

static void
test_state_replaced_by_newer(void **state)
{
	struct fixture *f = *state;

	start(f);
	assert_int_equal(mqtt_publish_state(f->m, "base/mode", "historique", 10, true), 0);
	assert_int_equal(mqtt_publish_state(f->m, "base/mode", "standard", 8, true), 0);
	/* Many topics: the oldest goes, uncounted. */
	for (int i = 0; i < 20; i++) {
		char topic[32];

		snprintf(topic, sizeof(topic), "base/state%d", i);
		assert_int_equal(mqtt_publish_state(f->m, topic, "x", 1, false), 0);
	}
	assert_int_equal(mqtt_stats(f->m).dropped, 0);
	assert_true(mqtt_stats(f->m).pending <= 8);
	connect_ok(f);
	assert_int_equal(mqtt_stub_count(f->b, "base/mode"), 0); /* pushed out by 20 newer ones */
	assert_int_equal(mqtt_stub_count(f->b, "base/state19"), 1);
}

/* The drop count is the frames that never reach the broker: a frame handed to the backend
 * cannot be taken back, so it is never the one dropped, and the backend never holds more than
 * the bound. */
static void
test_drop_never_counts_frames_in_flight(void **state)
{
	struct fixture *f = *state;
	int got[64];

	f->cfg.queue_frames = 3;
	start(f);
	connect_ok(f);
	mqtt_stub_clear(f->b);
	publish(f, 0);
	publish(f, 1); /* in flight, the broker stalls */
	mqtt_stub_refuse_sends(f->b, -ENOTCONN);
	publish(f, 2); /* kept, not handed over */
	publish(f, 3); /* drops 2 rather than 0 or 1 */
	assert_int_equal(mqtt_stats(f->m).dropped, 1);
	mqtt_stub_refuse_sends(f->b, 0);
	turn(f);
	publish(f, 4); /* every frame in flight: the new one is the one dropped */
	assert_int_equal(mqtt_stats(f->m).dropped, 2);
	assert_int_equal(mqtt_stats(f->m).pending, 3);
	mqtt_stub_ack_all(f->b);
	turn(f);
	assert_int_equal(frames_sent(f, 0, got, 64), 3);
	assert_int_equal(got[0], 0);
	assert_int_equal(got[1], 1);
	assert_int_equal(got[2], 3);
}

/* A bound below the window with a frozen broker (faults.py's "broker frozen", queue = 50): the
 * backend held every frame and the counter called most of them dropped. */
static void
test_frozen_broker_bound_below_window(void **state)
{
	struct fixture *f = *state;
	int got[64];

	f->cfg.queue_frames = 50;
	start(f);
	connect_ok(f);
	mqtt_stub_clear(f->b);
	for (int i = 0; i < 250; i++) {
		publish(f, i);
		turn(f);
	}
	assert_int_equal(frames_sent(f, 0, got, 64), 50);
	assert_int_equal(mqtt_stats(f->m).dropped, 200);
	mqtt_stub_ack_all(f->b);
	turn(f);
	assert_int_equal(mqtt_stats(f->m).sent, 50);
	assert_int_equal(mqtt_stats(f->m).pending, 0);
	for (int i = 0; i < 50; i++)
		assert_int_equal(got[i], i);
}

static uint64_t
wait_connects(struct fixture *f, unsigned n)
{
	uint64_t t0 = loop_now_ms();

	while (mqtt_stub_connects(f->b) < n) {
		assert_true(loop_now_ms() - t0 < 5000);
		assert_true(loop_turn(f->loop, 100) >= 0);
	}
	return loop_now_ms() - t0;
}

static void
test_reconnect_backoff(void **state)
{
	struct fixture *f = *state;
	uint64_t ms;

	start(f);
	mqtt_stub_connect_failed(f->b, BACKEND_FAIL_REFUSED, 0);
	ms = wait_connects(f, 2);
	assert_true(ms >= 900 && ms < 1500);
	mqtt_stub_connect_failed(f->b, BACKEND_FAIL_REFUSED, 0);
	ms = wait_connects(f, 3);
	assert_true(ms >= 1900 && ms < 2600);
	/* Connected: the back-off starts over after a loss. */
	connect_ok(f);
	mqtt_stub_lost(f->b);
	ms = wait_connects(f, 4);
	assert_true(ms >= 900 && ms < 1500);
	assert_int_equal(mqtt_state(f->m), MQTT_CONNECTING);
}

static void
test_availability(void **state)
{
	struct fixture *f = *state;
	const struct backend_options *o;

	f->cfg.username = "meter";
	f->cfg.password = "s3cret";
	start(f);
	o = mqtt_stub_options(f->b);
	assert_string_equal(o->will.topic, STATUS);
	assert_string_equal(o->will.payload, "offline");
	assert_true(o->will.retain);
	assert_int_equal(o->will.qos, 1);
	assert_string_equal(o->username, "meter");
	assert_string_equal(o->password, "s3cret");
	assert_int_equal(o->keepalive, 30);
	connect_ok(f);
	mqtt_stub_lost(f->b);
	turn(f);
	mqtt_stub_clear(f->b);
	connect_ok(f);
	/* "online" again on every connect. */
	assert_int_equal(mqtt_stub_count(f->b, STATUS), 1);
	assert_string_equal(mqtt_stub_last_on(f->b, STATUS)->payload, "online");
}

static void
test_subscriptions_and_messages(void **state)
{
	struct fixture *f = *state;

	start(f);
	assert_int_equal(mqtt_subscribe(f->m, "homeassistant/status"), 0);
	assert_int_equal(mqtt_stub_subscriptions(f->b), 0); /* not connected yet */
	connect_ok(f);
	assert_int_equal(mqtt_stub_subscriptions(f->b), 1);
	mqtt_stub_message(f->b, "homeassistant/status", "online", true);
	turn(f);
	assert_int_equal(f->messages, 1);
	assert_string_equal(f->got_topic, "homeassistant/status");
	assert_string_equal(f->got_payload, "online");
	assert_true(f->got_retained);
	/* Clean sessions: subscribed again on every connect. */
	mqtt_stub_lost(f->b);
	turn(f);
	connect_ok(f);
	assert_int_equal(mqtt_stub_subscriptions(f->b), 2);
	assert_string_equal(mqtt_stub_subscription(f->b, 1), "homeassistant/status");
}

static void
test_close_flushes_then_disconnects(void **state)
{
	struct fixture *f = *state;

	start(f);
	connect_ok(f);
	publish(f, 1);
	mqtt_close(f->m, 2000);
	turn(f);
	assert_true(mqtt_stub_wake_on_ack(f->b)); /* the close waits on acks */
	assert_string_equal(mqtt_stub_last_on(f->b, STATUS)->payload, "offline");
	assert_true(mqtt_stub_last_on(f->b, STATUS)->retain);
	assert_int_equal(mqtt_stub_disconnects(f->b), 0);
	mqtt_stub_ack_all(f->b);
	turn(f);
	assert_int_equal(mqtt_stub_disconnects(f->b), 1);
	mqtt_stub_disconnected(f->b);
	turn(f);
	assert_int_equal(mqtt_state(f->m), MQTT_CLOSED);
	assert_int_equal(f->states[f->n_states - 1], MQTT_CLOSED);
	/* Late events of a closed client reach nobody. */
	mqtt_stub_message(f->b, "homeassistant/status", "online", false);
	turn(f);
	assert_int_equal(f->messages, 0);
}

static void
test_close_deadline(void **state)
{
	struct fixture *f = *state;
	uint64_t t0;

	start(f);
	connect_ok(f);
	publish(f, 1);
	t0 = loop_now_ms();
	mqtt_close(f->m, 200);
	while (mqtt_state(f->m) != MQTT_CLOSED) {
		assert_true(loop_now_ms() - t0 < 2000);
		assert_true(loop_turn(f->loop, 100) >= 0);
	}
	assert_true(loop_now_ms() - t0 >= 190);
}

static void
test_close_while_away(void **state)
{
	struct fixture *f = *state;

	start(f);
	mqtt_close(f->m, 2000);
	assert_int_equal(mqtt_state(f->m), MQTT_CLOSED);
	assert_int_equal(mqtt_stub_disconnects(f->b), 0);
}

static void
on_connect_failed(enum mqtt_failure kind, const char *why, void *userdata)
{
	struct fixture *f = userdata;

	snprintf(f->got_payload, sizeof(f->got_payload), "%d %s", (int) kind, why);
}

/* A client without availability (linkyd --doctor): no will, no online, no offline; each
 * failure reported with its kind and the log's words. */
static void
test_no_availability(void **state)
{
	static const struct mqtt_callbacks quiet = {.on_state = on_state,
	                                            .on_connect_failed = on_connect_failed};
	static const struct {
		enum backend_failure failure;
		int code;
		enum mqtt_failure kind;
		const char *why;
	} cases[] = {
	    {BACKEND_FAIL_REFUSED, 0, MQTT_FAIL_NETWORK, "connection refused"},
	    {BACKEND_FAIL_TLS, 0, MQTT_FAIL_TLS, "TLS handshake failed"},
	    {BACKEND_FAIL_CONNACK, 4, MQTT_FAIL_AUTH, "the broker refused the connection: bad"},
	    {BACKEND_FAIL_CONNACK, 1, MQTT_FAIL_PROTOCOL, "the broker refused the connection: un"},
	    {BACKEND_FAIL_NO_CONNACK, 0, MQTT_FAIL_PROTOCOL, "no CONNACK"},
	};
	struct fixture *f = *state;
	char want[64];

	assert_int_equal(mqtt_new(f->loop, &f->cfg, "linkyd-doctor-1", NULL, &quiet, f, &f->m), 0);
	f->b = mqtt_stub_last();
	assert_null(mqtt_stub_options(f->b)->will.topic);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mqtt_stub_connect_failed(f->b, cases[i].failure, cases[i].code);
		turn(f);
		snprintf(want, sizeof(want), "%d %s", (int) cases[i].kind, cases[i].why);
		assert_memory_equal(f->got_payload, want, strlen(want));
	}
	connect_ok(f);
	assert_int_equal(mqtt_stub_sent_count(f->b), 0);
	mqtt_close(f->m, 2000);
	turn(f);
	assert_int_equal(mqtt_stub_sent_count(f->b), 0);
	assert_int_equal(mqtt_stub_disconnects(f->b), 1);
}

/* At line rate an ack must not wake the loop: it is taken at the next wake-up anyway. */
static void
test_acks_wake_only_when_waited_on(void **state)
{
	struct fixture *f = *state;

	start(f);
	turn(f);
	assert_false(mqtt_stub_wake_on_ack(f->b)); /* idle, not connected */
	connect_ok(f);
	publish(f, 1);
	turn(f);
	assert_false(mqtt_stub_wake_on_ack(f->b)); /* one in flight, nothing waits */
	for (int i = 0; i < 70; i++)
		publish(f, i);
	turn(f);
	assert_true(mqtt_stub_wake_on_ack(f->b)); /* the window is full, 7 wait */
	mqtt_stub_ack_all(f->b);
	turn(f);
	assert_false(mqtt_stub_wake_on_ack(f->b));
}

static char *
write_password_file(const char *text, mode_t mode)
{
	char *path = strdup("/tmp/linkyd-test-pw-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

static void
test_password_file_used(void **state)
{
	struct fixture *f = *state;
	char *path = write_password_file("from-file\n", 0600);

	f->cfg.username = "meter";
	f->cfg.password_file = path;
	start(f);
	assert_string_equal(mqtt_stub_options(f->b)->password, "from-file");
	unlink(path);
	free(path);
}

static void
test_password_file_refused(void **state)
{
	struct fixture *f = *state;
	char *path = write_password_file("secret\n", 0644);
	struct mqtt *m = NULL;

	f->cfg.username = "meter";
	f->cfg.password_file = path;
	assert_int_equal(mqtt_new(f->loop, &f->cfg, "id", STATUS, &cbs, f, &m), -EPERM);
	assert_null(m);
	unlink(path);
	free(path);
}

static void
test_password_load(void **state)
{
	static const struct {
		const char *text;
		mode_t mode;
		int r;
		const char *password, *err;
	} cases[] = {
	    {"s3cret\n", 0600, 0, "s3cret", NULL},
	    {"s3cret\r\n", 0400, 0, "s3cret", NULL},
	    {"s3cret", 0600, 0, "s3cret", NULL},
	    {"s3cret\n", 0640, -EPERM, NULL, "mode 0640"},
	    {"s3cret\n", 0604, -EPERM, NULL, "mode 0604"},
	    {"\n", 0600, -EINVAL, NULL, "is empty"},
	    {"two\nlines\n", 0600, -EINVAL, NULL, "alone on one line"},
	};
	char err[256], *password, *big;
	(void) state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = write_password_file(cases[i].text, cases[i].mode);

		password = NULL;
		err[0] = '\0';
		assert_int_equal(mqtt_password_load(path, &password, err, sizeof(err)), cases[i].r);
		if (cases[i].password)
			assert_string_equal(password, cases[i].password);
		else
			assert_non_null(strstr(err, cases[i].err));
		free(password);
		unlink(path);
		free(path);
	}
	assert_int_equal(mqtt_password_load("/nonexistent/pw", &password, err, sizeof(err)),
	                 -ENOENT);
	assert_int_equal(mqtt_password_load("/tmp", &password, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "regular file"));
	/* 65 535 bytes is the most MQTT can carry. */
	big = malloc(MQTT_PASSWORD_MAX + 2);
	assert_non_null(big);
	memset(big, 'x', MQTT_PASSWORD_MAX + 1);
	big[MQTT_PASSWORD_MAX + 1] = '\0';
	for (int extra = 0; extra < 2; extra++) {
		char *path;

		big[MQTT_PASSWORD_MAX + extra] = '\0';
		path = write_password_file(big, 0600);
		password = NULL;
		assert_int_equal(mqtt_password_load(path, &password, err, sizeof(err)),
		                 extra ? -EINVAL : 0);
		if (!extra)
			assert_int_equal(strlen(password), MQTT_PASSWORD_MAX);
		free(password);
		unlink(path);
		free(path);
		big[MQTT_PASSWORD_MAX + extra] = 'x';
	}
	free(big);
}

static void
test_oversized_user_name_refused(void **state)
{
	struct fixture *f = *state;
	char *user = malloc(MQTT_STRING_MAX + 2);
	struct mqtt *m = NULL;

	assert_non_null(user);
	memset(user, 'u', MQTT_STRING_MAX + 1);
	user[MQTT_STRING_MAX + 1] = '\0';
	f->cfg.username = user;
	assert_int_equal(mqtt_new(f->loop, &f->cfg, "id", STATUS, &cbs, f, &m), -EINVAL);
	assert_null(m);
	free(user);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_online_then_frames_in_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_availability, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_window_and_acks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused_ack_resent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_requeue_after_loss, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_live_messages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wildcard_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bound_counts_frames_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_state_replaced_by_newer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_drop_never_counts_frames_in_flight, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_frozen_broker_bound_below_window, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reconnect_backoff, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_availability, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_subscriptions_and_messages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_flushes_then_disconnects, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_deadline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_while_away, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_acks_wake_only_when_waited_on, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_password_file_used, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_password_file_refused, setup, teardown),
	    cmocka_unit_test(test_password_load),
	    cmocka_unit_test_setup_teardown(test_oversized_user_name_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
