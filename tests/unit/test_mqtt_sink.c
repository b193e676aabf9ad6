/* SPDX-License-Identifier: MIT */
/*
 * The MQTT sink (src/sink/mqtt.c): what it publishes, on which topic, retained or not, for a
 * meter's records, with the backend stub (mqtt_stub.h) playing the broker: frames and label
 * topics as the policy says, the mode and the diagnostics, Home Assistant's configs (again when
 * Home Assistant announces itself or the connection comes back), the derived values at their own
 * pace, the retained energy, and the goodbye at close. The frames are the real captures'.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"
#include "linkyd/json.h"
#include "linkyd/log.h"
#include "linkyd/sink.h"
#include "mqtt_stub.h"

struct fixture {
	struct loop *loop;
	const struct linkyd_config *c;
	struct sink *sink;
	struct backend *b;
	struct derive *derive;
	struct tic_stats stats;
	struct line_status line;
	uint64_t now_ms;
	unsigned changes;
	bool closed;
	/* The capture's first frame, typed, and its JSON. */
	struct rec rec;
	struct tic_parser parser;
	struct tic_frame frame;
	struct tic_group groups[TIC_FRAME_GROUPS];
	char json[JSON_FRAME_MAX];
};

static void
on_change(void *userdata)
{
	((struct fixture *) userdata)->changes++;
}

static void
on_closed(struct sink *s, void *owner)
{
	(void) s;
	((struct fixture *) owner)->closed = true;
}

/* The configuration from text (a temporary file), its only meter on topic "linky". */
static const struct linkyd_config *
config(const char *text)
{
	char path[] = "/tmp/linkyd-test-mqtt-sink-XXXXXX", err[CONFIG_ERROR_SIZE];
	struct config_args args = {.path = path};
	const struct linkyd_config *c;
	int fd = mkstemp(path);
	FILE *out = fdopen(fd, "w");

	assert_non_null(out);
	fprintf(out, "meters = ( { input = \"/dev/null\"; topic = \"linky\"; } );\n%s", text);
	assert_int_equal(fclose(out), 0);
	if (config_load(&args, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	(void) unlink(path);
	return c;
}

static int
keep_frame(const struct tic_frame *frame, void *userdata)
{
	struct fixture *f = userdata;

	/* The parser's strings live until the next frame: the test feeds one frame only. */
	f->frame = *frame;
	return 1;
}

/* Let the loop hand everything queued to the broker, which acknowledges it all (the front end
 * keeps a window of messages in flight). */
static void
flush(struct fixture *f)
{
	do
		(void) loop_turn(f->loop, 0);
	while (mqtt_stub_ack_all(f->b) > 0);
}

static void
start(struct fixture *f, const char *text)
{
	static const struct tic_parser_callbacks cbs = {.on_frame = keep_frame};
	static const struct derive_config dc = {0};
	size_t len;
	char *data = read_fixture("standard-mono-base-01.tic", &len);

	memset(f, 0, sizeof(*f));
	log_init(-1);
	f->loop = loop_new();
	assert_non_null(f->loop);
	f->c = config(text);
	tic_parser_init(&f->parser, &cbs, f);
	(void) tic_parser_feed(&f->parser, data, len);
	free(data);
	assert_int_equal(f->frame.n_groups, 38);
	assert_true(json_encode_frame(&f->frame, JSON_FORMAT_TYPED, f->json, sizeof(f->json)) > 0);
	assert_int_equal(derive_new(&dc, &f->derive, NULL), 0);
	f->now_ms = 1000;
	assert_int_equal(mqtt_sink_new(f->loop, &f->c->meters[0], f->c, on_change, f, &f->sink), 0);
	f->sink->on_closed = on_closed;
	f->sink->owner = f;
	f->b = mqtt_stub_last();
	mqtt_stub_connected(f->b);
	flush(f);
	assert_true(mqtt_sink_connected(f->sink));
}

static void
stop(struct fixture *f)
{
	sink_free(f->sink);
	derive_free(f->derive);
	config_unref(f->c);
	loop_free(f->loop);
}

/* The line's status, as the line would give it. */
static void
line(struct fixture *f, enum line_state state, enum tic_mode mode)
{
	f->line =
	    (struct line_status){.state = state, .mode = mode, .baud = 9600, .stats = &f->stats};
	f->sink->ops->line(f->sink, &f->line);
	flush(f);
}

/* The frame, all labels due but those of not_due (a label or NULL). */
static void
frame(struct fixture *f, bool publish, const char *not_due)
{
	bool due[TIC_FRAME_GROUPS];
	struct sink_frame sf = {.whole = &f->frame,
	                        .kept = &f->frame,
	                        .due = due,
	                        .publish = publish,
	                        .mono_ms = f->now_ms,
	                        .wall = 1767222000};

	for (unsigned i = 0; i < f->frame.n_groups; i++)
		due[i] = !not_due || strcmp(f->frame.groups[i].label, not_due) != 0;
	f->stats.frames++;
	f->sink->ops->frame(f->sink, &sf);
	flush(f);
}

static void
derived(struct fixture *f, bool energy_changed)
{
	struct sink_derived d = {
	    .derive = f->derive, .energy_changed = energy_changed, .mono_ms = f->now_ms};

	derive_frame(f->derive, &f->frame, NULL, f->now_ms, 1767222000);
	f->sink->ops->derived(f->sink, &d);
	flush(f);
}

/* Configs published under the discovery prefix so far. */
static size_t
configs(const struct fixture *f)
{
	size_t n = 0;

	for (size_t i = 0; i < mqtt_stub_sent_count(f->b); i++) {
		const struct stub_message *m = mqtt_stub_sent(f->b, i);

		n += strncmp(m->topic, "homeassistant/", 14) == 0 &&
		     strcmp(m->topic + strlen(m->topic) - 7, "/config") == 0;
	}
	return n;
}

/* The frame on its topic, the mode and diagnostics as state, the configs before the frame. */
static void
test_frame_mode_diagnostics_discovery(void **state)
{
	struct fixture f;
	const struct stub_message *m;
	size_t first_config = SIZE_MAX, frame_at = SIZE_MAX;

	(void) state;
	start(&f, "");
	line(&f, LINE_DETECTING, TIC_MODE_UNKNOWN);
	m = mqtt_stub_last_on(f.b, "linky/diagnostics");
	assert_non_null(m);
	assert_non_null(strstr(m->payload, "\"mode\":\"detecting\""));
	assert_non_null(strstr(m->payload, "\"line\":\"detecting\""));
	assert_int_equal(mqtt_stub_count(f.b, "linky/mode"), 0);
	line(&f, LINE_OK, TIC_MODE_STANDARD);
	m = mqtt_stub_last_on(f.b, "linky/mode");
	assert_non_null(m);
	assert_string_equal(m->payload, "standard");
	assert_true(m->retain);
	frame(&f, true, NULL);
	m = mqtt_stub_last_on(f.b, "linky");
	assert_non_null(m);
	assert_string_equal(m->payload, f.json);
	assert_false(m->retain);
	assert_int_equal(m->qos, 1);
	for (size_t i = 0; i < mqtt_stub_sent_count(f.b); i++) {
		const char *t = mqtt_stub_sent(f.b, i)->topic;

		if (strncmp(t, "homeassistant/sensor/linkyd_012345678910/", 41) == 0 &&
		    first_config == SIZE_MAX)
			first_config = i;
		if (strcmp(t, "linky") == 0)
			frame_at = i;
	}
	assert_true(first_config < frame_at);
	assert_true(configs(&f) > 38);
	/* A policy that holds the frame back: nothing on the frame topic, discovery all the
	 * same. */
	frame(&f, false, NULL);
	assert_int_equal(mqtt_stub_count(f.b, "linky"), 1);
	/* No label topics unless asked for. */
	assert_int_equal(mqtt_stub_count(f.b, "linky/EAST"), 0);
	stop(&f);
}

/* Label topics: the due labels only, the value bare, '+' made a topic level's '_'. */
static void
test_label_topics(void **state)
{
	struct fixture f;
	const struct stub_message *m;

	(void) state;
	start(&f, "publish = { label_topics = true; label_retain = true; };\n");
	line(&f, LINE_OK, TIC_MODE_STANDARD);
	frame(&f, true, "SINSTS");
	m = mqtt_stub_last_on(f.b, "linky/EAST");
	assert_non_null(m);
	assert_string_equal(m->payload, "3519702");
	assert_true(m->retain);
	m = mqtt_stub_last_on(f.b, "linky/NGTF");
	assert_non_null(m);
	assert_string_equal(m->payload, "base");
	assert_int_equal(mqtt_stub_count(f.b, "linky/PJOURF_1"), 1);
	assert_int_equal(mqtt_stub_count(f.b, "linky/SINSTS"), 0);
	stop(&f);
}

/* <topic>/derived at most every 10 s when it changed, every minute anyway; the energy retained
 * when it changed, at most once a minute, and at close whatever the pace. */
static void
test_derived_pace_and_energy(void **state)
{
	struct fixture f;

	(void) state;
	start(&f, "");
	line(&f, LINE_OK, TIC_MODE_STANDARD);
	frame(&f, true, NULL);
	derived(&f, true);
	assert_int_equal(mqtt_stub_count(f.b, "linky/derived"), 1);
	assert_int_equal(mqtt_stub_count(f.b, "linky/energy"), 1);
	assert_true(mqtt_stub_last_on(f.b, "linky/energy")->retain);
	for (int i = 0; i < 5; i++) {
		f.now_ms += 1000;
		frame(&f, true, NULL);
		derived(&f, true);
	}
	assert_int_equal(mqtt_stub_count(f.b, "linky/derived"), 1);
	assert_int_equal(mqtt_stub_count(f.b, "linky/energy"), 1);
	/* Unchanged: not again before the minute's heartbeat. */
	f.now_ms += 20000;
	derived(&f, false);
	assert_int_equal(mqtt_stub_count(f.b, "linky/derived"), 1);
	f.now_ms += 40000;
	derived(&f, false);
	assert_int_equal(mqtt_stub_count(f.b, "linky/derived"), 2);
	/* The energy changed a few seconds ago: it waits for its minute, or for the close. */
	f.now_ms += 1000;
	derived(&f, true);
	assert_int_equal(mqtt_stub_count(f.b, "linky/energy"), 2);
	f.now_ms += 1000;
	derived(&f, true);
	assert_int_equal(mqtt_stub_count(f.b, "linky/energy"), 2);
	{
		struct sink_derived last = {.derive = f.derive, .mono_ms = f.now_ms};

		f.sink->ops->close(f.sink, &last, 1000);
	}
	flush(&f);
	assert_int_equal(mqtt_stub_count(f.b, "linky/energy"), 3);
	stop(&f);
}

/* Home Assistant announcing itself, or a new connection: every config again; a retained
 * "online" (sent with each subscription) is no news. */
static void
test_discovery_again(void **state)
{
	struct fixture f;
	size_t before;

	(void) state;
	start(&f, "");
	assert_int_equal(mqtt_stub_subscriptions(f.b), 1);
	assert_string_equal(mqtt_stub_subscription(f.b, 0), "homeassistant/status");
	line(&f, LINE_OK, TIC_MODE_STANDARD);
	frame(&f, true, NULL);
	before = configs(&f);
	mqtt_stub_message(f.b, "homeassistant/status", "online", true);
	flush(&f);
	assert_int_equal(configs(&f), before);
	mqtt_stub_message(f.b, "homeassistant/status", "online", false);
	flush(&f);
	assert_int_equal(configs(&f), 2 * before);
	mqtt_stub_lost(f.b);
	(void) loop_turn(f.loop, 0);
	assert_false(mqtt_sink_connected(f.sink));
	mqtt_stub_connected(f.b);
	flush(&f);
	assert_int_equal(configs(&f), 3 * before);
	assert_true(f.changes >= 2);
	stop(&f);
}

/* Close: offline retained on the availability topic, then the disconnect, then closed. */
static void
test_close(void **state)
{
	struct fixture f;
	const struct stub_message *m;

	(void) state;
	start(&f, "");
	line(&f, LINE_OK, TIC_MODE_STANDARD);
	frame(&f, true, NULL);
	f.sink->ops->close(f.sink, NULL, 1000);
	(void) loop_turn(f.loop, 0);
	m = mqtt_stub_last_on(f.b, "linky/status");
	assert_non_null(m);
	assert_string_equal(m->payload, "offline");
	assert_true(m->retain);
	assert_false(f.closed);
	flush(&f);
	assert_int_equal(mqtt_stub_disconnects(f.b), 1);
	mqtt_stub_disconnected(f.b);
	(void) loop_turn(f.loop, 0);
	assert_true(f.closed);
	stop(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_frame_mode_diagnostics_discovery),
	    cmocka_unit_test(test_label_topics),
	    cmocka_unit_test(test_derived_pace_and_energy),
	    cmocka_unit_test(test_discovery_again),
	    cmocka_unit_test(test_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
