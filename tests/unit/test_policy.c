/* SPDX-License-Identifier: MIT */
/*
 * Tests of the publish policies with a controllable clock: every frame, at most every N
 * seconds, on change with a dead-band and a heartbeat, per-label overrides, and alarms that go
 * out at once whatever the policy; then a real triphasé capture with its ADIR short frames.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"
#include "linkyd/policy.h"

#define MAX_GROUPS 8

/* A frame built by hand: a few groups, their labels looked up in the table, typed. */
struct fb {
	struct tic_group groups[MAX_GROUPS];
	struct tic_frame frame;
	bool due[MAX_GROUPS];
};

static void
fb_init(struct fb *f, enum tic_mode mode)
{
	memset(f, 0, sizeof(*f));
	f->frame.mode = mode;
	f->frame.groups = f->groups;
}

static void
fb_add(struct fb *f, const char *label, const char *horodate, const char *value)
{
	struct tic_group *g = &f->groups[f->frame.n_groups++];

	assert_true(f->frame.n_groups <= MAX_GROUPS);
	g->label = label;
	g->value = value;
	g->horodate = horodate;
	g->label_len = (uint8_t) strlen(label);
	g->value_len = (uint8_t) strlen(value);
	g->def = tic_label_find(label, g->label_len);
	assert_int_equal(tic_group_type(g), 0);
}

/* A historique frame "PAPP papp PTEC ptec" decided at now_ms: returns the frame's verdict. */
static bool
hist(struct policy_engine *e, struct fb *f, const char *papp, const char *ptec, uint64_t now_ms)
{
	fb_init(f, TIC_MODE_HISTORIQUE);
	fb_add(f, "PAPP", NULL, papp);
	fb_add(f, "PTEC", NULL, ptec);
	return policy_engine_frame(e, &f->frame, now_ms, f->due, NULL);
}

static struct policy_engine *
engine(const struct policy *base, struct label_policy *labels, size_t n)
{
	struct publish_config pc = {.policy = *base, .labels = labels, .n_labels = n};
	struct policy_engine *e = NULL;

	assert_int_equal(policy_engine_new(&pc, &e), 0);
	return e;
}

static void
test_every_frame(void **state)
{
	struct policy base = {.kind = PUBLISH_EVERY_FRAME};
	struct policy_engine *e = engine(&base, NULL, 0);
	struct fb f;

	(void) state;
	for (uint64_t t = 0; t < 5000; t += 1000) {
		assert_true(hist(e, &f, "01940", "HP..", t));
		assert_true(f.due[0] && f.due[1]);
	}
	policy_engine_free(e);
}

static void
test_interval(void **state)
{
	struct policy base = {.kind = PUBLISH_INTERVAL, .interval = 10};
	struct policy_engine *e = engine(&base, NULL, 0);
	struct fb f;

	(void) state;
	assert_true(hist(e, &f, "01940", "HP..", 1000)); /* first sight */
	for (uint64_t t = 2500; t < 11000; t += 1500)
		assert_false(hist(e, &f, "01950", "HC..", t)); /* changes do not matter */
	assert_true(hist(e, &f, "01950", "HC..", 11000));      /* 10 s after the last */
	assert_true(f.due[0] && f.due[1]);
	assert_false(hist(e, &f, "01950", "HC..", 12000));
	policy_engine_free(e);
}

static void
test_on_change(void **state)
{
	struct policy base = {.kind = PUBLISH_ON_CHANGE, .deadband = 50, .heartbeat = 60};
	struct policy_engine *e = engine(&base, NULL, 0);
	struct fb f;

	(void) state;
	assert_true(hist(e, &f, "01000", "HP..", 0));
	assert_false(hist(e, &f, "01020", "HP..", 1000));
	/* Measured from the last published value, so creeping adds up. */
	assert_false(hist(e, &f, "01049", "HP..", 2000));
	assert_true(hist(e, &f, "01050", "HP..", 3000));
	assert_true(f.due[0]);
	assert_false(f.due[1]);
	assert_true(hist(e, &f, "01000", "HP..", 4000)); /* down by the dead-band */
	assert_true(f.due[0]);
	/* Text has no dead-band: any change. */
	assert_true(hist(e, &f, "01000", "HC..", 5000));
	assert_false(f.due[0]);
	assert_true(f.due[1]);
	/* The heartbeat, 60 s after each label's last publication. */
	assert_false(hist(e, &f, "01000", "HC..", 63999));
	assert_true(hist(e, &f, "01000", "HC..", 64000));
	assert_true(f.due[0]);
	assert_false(f.due[1]);
	assert_true(hist(e, &f, "01000", "HC..", 65000));
	assert_false(f.due[0]);
	assert_true(f.due[1]);
	policy_engine_free(e);
}

/* DATE's horodate changes every frame: it is not a change of value. */
static void
test_horodate_is_not_a_change(void **state)
{
	struct policy base = {.kind = PUBLISH_ON_CHANGE, .heartbeat = 60};
	struct policy_engine *e = engine(&base, NULL, 0);
	struct fb f;

	(void) state;
	fb_init(&f, TIC_MODE_STANDARD);
	fb_add(&f, "DATE", "H241122101500", "");
	assert_true(policy_engine_frame(e, &f.frame, 0, f.due, NULL));
	fb_init(&f, TIC_MODE_STANDARD);
	fb_add(&f, "DATE", "H241122101502", "");
	assert_false(policy_engine_frame(e, &f.frame, 2000, f.due, NULL));
	policy_engine_free(e);
}

/* Overrides: the last one naming a label wins; a frame goes out when any label is due. */
static void
test_overrides(void **state)
{
	struct policy base = {.kind = PUBLISH_INTERVAL, .interval = 3600};
	struct label_policy labels[] = {
	    {.label = "PAPP", .policy = {.kind = PUBLISH_INTERVAL, .interval = 600}},
	    {.label = "PAPP", .policy = {.kind = PUBLISH_EVERY_FRAME}},
	};
	struct policy_engine *e = engine(&base, labels, 2);
	struct fb f;

	(void) state;
	/* The engine copied them: the configuration may go away (reload). */
	labels[1].policy.kind = PUBLISH_INTERVAL;
	labels[1].label = "PTEC";
	assert_true(hist(e, &f, "01000", "HP..", 0));
	for (uint64_t t = 1000; t < 10000; t += 1000) {
		assert_true(hist(e, &f, "01000", "HP..", t));
		assert_true(f.due[0]);
		assert_false(f.due[1]);
	}
	policy_engine_free(e);
}

/* A frame with groups label=value... at now_ms, under a policy that would publish nothing. */
static bool
quiet_frame(struct policy_engine *e, struct fb *f, const char *label, const char *value,
            uint64_t now_ms, bool *alarm)
{
	fb_init(f, TIC_MODE_STANDARD);
	fb_add(f, "SINSTS", NULL, "01000");
	fb_add(f, label, NULL, value);
	return policy_engine_frame(e, &f->frame, now_ms, f->due, alarm);
}

static void
test_alarms(void **state)
{
	struct policy base = {.kind = PUBLISH_ON_CHANGE, .heartbeat = 3600};
	struct policy_engine *e = engine(&base, NULL, 0);
	struct fb f;
	bool alarm;

	(void) state;
	assert_true(quiet_frame(e, &f, "STGE", "003A4001", 0, &alarm)); /* first sight */
	assert_false(alarm);
	assert_false(quiet_frame(e, &f, "STGE", "003A4001", 1000, &alarm));
	/* Bit 7, reference power exceeded: at once, and as long as it lasts. */
	assert_true(quiet_frame(e, &f, "STGE", "003A4081", 2000, &alarm));
	assert_true(alarm && f.due[1] && !f.due[0]);
	assert_true(quiet_frame(e, &f, "STGE", "003A4081", 3000, &alarm));
	assert_true(alarm);
	/* Its end is a change of the alarm bits: at once too. */
	assert_true(quiet_frame(e, &f, "STGE", "003A4001", 4000, &alarm));
	assert_true(alarm);
	/* Over-voltage (bit 6), then the breaker opening (bits 1-3). */
	assert_true(quiet_frame(e, &f, "STGE", "003A4041", 5000, &alarm));
	assert_true(alarm);
	assert_true(quiet_frame(e, &f, "STGE", "003A4003", 6000, &alarm));
	assert_true(alarm);
	/* Other bits (the tariff index) follow the policy. */
	assert_true(quiet_frame(e, &f, "STGE", "003A4403", 7000, &alarm));
	assert_false(alarm);
	assert_false(quiet_frame(e, &f, "STGE", "003A4403", 8000, &alarm));

	/* RELAIS: a change is an alarm, the same value is not. */
	assert_true(quiet_frame(e, &f, "RELAIS", "000", 9000, &alarm));
	assert_false(alarm);
	assert_false(quiet_frame(e, &f, "RELAIS", "000", 10000, &alarm));
	assert_true(quiet_frame(e, &f, "RELAIS", "001", 11000, &alarm));
	assert_true(alarm && f.due[1]);
	policy_engine_free(e);

	/* ADPS (historique overload): whenever present. */
	e = engine(&base, NULL, 0);
	assert_true(hist(e, &f, "01000", "HP..", 0));
	fb_init(&f, TIC_MODE_HISTORIQUE);
	fb_add(&f, "PAPP", NULL, "01000");
	fb_add(&f, "ADPS", NULL, "062");
	assert_true(policy_engine_frame(e, &f.frame, 1000, f.due, &alarm));
	assert_true(alarm && f.due[1] && !f.due[0]);
	assert_true(policy_engine_frame(e, &f.frame, 2000, f.due, &alarm));
	assert_true(alarm);
	policy_engine_free(e);
}

/* Unknown labels have a state too, by name. */
static void
test_unknown_labels(void **state)
{
	struct policy base = {.kind = PUBLISH_ON_CHANGE, .heartbeat = 60};
	struct policy_engine *e = engine(&base, NULL, 0);
	struct fb f;

	(void) state;
	fb_init(&f, TIC_MODE_STANDARD);
	fb_add(&f, "FUTUR1", NULL, "A");
	fb_add(&f, "FUTUR2", NULL, "B");
	assert_true(policy_engine_frame(e, &f.frame, 0, f.due, NULL));
	assert_false(policy_engine_frame(e, &f.frame, 1000, f.due, NULL));
	f.groups[1].value = "C";
	assert_true(policy_engine_frame(e, &f.frame, 2000, f.due, NULL));
	assert_false(f.due[0]);
	assert_true(f.due[1]);
	policy_engine_free(e);
}

/* ---- A real capture ------------------------------------------------------------------------ */

struct replay {
	struct policy_engine *e;
	uint64_t now_ms;
	unsigned frames, published, alarm_frames, alarms_published;
	bool due[TIC_FRAME_GROUPS];
};

static int
on_frame(const struct tic_frame *frame, void *userdata)
{
	struct replay *r = userdata;
	bool has_alarm = false, alarm = false, out;

	for (unsigned i = 0; i < frame->n_groups; i++)
		has_alarm |= frame->groups[i].def && (frame->groups[i].def->flags & TIC_LF_ALARM);
	r->now_ms += 1000;
	r->frames++;
	out = policy_engine_frame(r->e, frame, r->now_ms, r->due, &alarm);
	r->published += out;
	r->alarm_frames += has_alarm;
	r->alarms_published += has_alarm && out && alarm;
	return 0;
}

static void
test_capture_adir(void **state)
{
	static const struct tic_parser_callbacks cbs = {.on_frame = on_frame};
	struct policy base = {.kind = PUBLISH_ON_CHANGE, .deadband = 5000, .heartbeat = 3600};
	struct replay r = {.e = engine(&base, NULL, 0)};
	struct tic_parser p;
	size_t len;
	char *data = read_fixture("historique-hchp-tri-adir-01.tic", &len);

	(void) state;
	tic_parser_init(&p, &cbs, &r);
	/* Twice: the second time, the long frames bring nothing new. */
	tic_parser_feed(&p, data, len);
	tic_parser_feed(&p, data, len);
	print_message("%u frames, %u published, %u with ADIR\n", r.frames, r.published,
	              r.alarm_frames);
	assert_true(r.alarm_frames > 0);
	/* Every short ADIR frame goes out at once, flagged as an alarm... */
	assert_int_equal(r.alarms_published, r.alarm_frames);
	/* ... while the quiet long frames are held back. */
	assert_true(r.published < r.frames);
	policy_engine_free(r.e);
	free(data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_frame),    cmocka_unit_test(test_interval),
	    cmocka_unit_test(test_on_change),      cmocka_unit_test(test_horodate_is_not_a_change),
	    cmocka_unit_test(test_overrides),      cmocka_unit_test(test_alarms),
	    cmocka_unit_test(test_unknown_labels), cmocka_unit_test(test_capture_adir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
