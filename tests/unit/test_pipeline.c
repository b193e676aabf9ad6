/* SPDX-License-Identifier: MIT */
/*
 * The pipeline (src/pipeline.c) with recording sinks: the real captures through the parser, then
 * anonymisation, the index guard, the derived values and the publish policy, with a clock the
 * test holds. What each sink receives, and in which order, is checked record by record.
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

#include "helpers.h"
#include "linkyd/log.h"
#include "linkyd/pipeline.h"

#define MAX_RECORDS 256

enum rec_kind { REC_FRAME, REC_DERIVED, REC_LINE, REC_CLOSE };

/* What a sink was handed, in order, with the bits of each record the tests look at. */
struct record {
	enum rec_kind kind;
	unsigned whole_groups, kept_groups, due_groups;
	bool publish, alarm;
	uint64_t mono_ms;
	char adsc[TIC_VALUE_MAX + 1]; /* ADSC/ADCO as the sink saw it, "" if absent */
	bool kept_index, whole_index; /* EAST or BASE/HCHC among the groups */
	bool with_last;               /* close: derived values given */
	enum line_state line_state;
};

struct recording {
	struct sink sink;
	const char *name;
	struct record recs[MAX_RECORDS];
	unsigned n;
	unsigned *order; /* shared counter: who received a frame when */
	unsigned first_seen;
	bool closed;
};

static struct record *
next(struct recording *r, enum rec_kind kind)
{
	assert_true(r->n < MAX_RECORDS);
	r->recs[r->n] = (struct record){.kind = kind};
	return &r->recs[r->n++];
}

static bool
has_index(const struct tic_frame *f)
{
	for (unsigned i = 0; i < f->n_groups; i++)
		if (strcmp(f->groups[i].label, "EAST") == 0 ||
		    strcmp(f->groups[i].label, "BASE") == 0 ||
		    strcmp(f->groups[i].label, "HCHC") == 0)
			return true;
	return false;
}

static void
rec_frame(struct sink *s, const struct sink_frame *f)
{
	struct recording *r = container_of(s, struct recording, sink);
	struct record *rec = next(r, REC_FRAME);

	rec->whole_groups = f->whole->n_groups;
	rec->kept_groups = f->kept->n_groups;
	for (unsigned i = 0; i < f->kept->n_groups; i++)
		rec->due_groups += f->due[i];
	rec->publish = f->publish;
	rec->alarm = f->alarm;
	rec->mono_ms = f->mono_ms;
	rec->kept_index = has_index(f->kept);
	rec->whole_index = has_index(f->whole);
	for (unsigned i = 0; i < f->whole->n_groups; i++) {
		const struct tic_group *g = &f->whole->groups[i];

		if (strcmp(g->label, "ADSC") == 0 || strcmp(g->label, "ADCO") == 0)
			strcpy(rec->adsc, g->value);
	}
	if (!r->first_seen)
		r->first_seen = ++*r->order;
}

static void
rec_derived(struct sink *s, const struct sink_derived *d)
{
	struct recording *r = container_of(s, struct recording, sink);
	char json[DERIVE_JSON_MAX];

	assert_non_null(d->derive);
	assert_true(derive_json(d->derive, json, sizeof(json)) > 0);
	next(r, REC_DERIVED)->mono_ms = d->mono_ms;
}

static void
rec_line(struct sink *s, const struct line_status *st)
{
	struct recording *r = container_of(s, struct recording, sink);

	next(r, REC_LINE)->line_state = st->state;
}

static void
rec_close(struct sink *s, const struct sink_derived *last, unsigned timeout_ms)
{
	struct recording *r = container_of(s, struct recording, sink);

	(void) timeout_ms;
	next(r, REC_CLOSE)->with_last = last != NULL;
	sink_closed(s);
}

static void
recording_free(struct sink *s)
{
	(void) s;
}

static const struct sink_ops full_ops = {
    .frame = rec_frame,
    .derived = rec_derived,
    .line = rec_line,
    .close = rec_close,
    .free = recording_free,
};

/* A sink that wants frames only. */
static const struct sink_ops frames_ops = {
    .frame = rec_frame,
    .close = rec_close,
    .free = recording_free,
};

static void
on_closed(struct sink *s, void *owner)
{
	(void) owner;
	container_of(s, struct recording, sink)->closed = true;
}

struct fixture {
	const struct linkyd_config *c;
	struct pipeline *p;
	struct recording a, b;
	unsigned order;
	uint64_t mono_ms;
	time_t wall;
	char dir[64];
};

static void
fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->a = (struct recording){
	    .sink = {.ops = &full_ops, .on_closed = on_closed}, .name = "a", .order = &f->order};
	f->b = (struct recording){
	    .sink = {.ops = &frames_ops, .on_closed = on_closed}, .name = "b", .order = &f->order};
	f->mono_ms = 1000;
	f->wall = 1767222000;
}

/* The configuration: the publish group given (nothing but frames unless it says so), the state
 * files in f->dir if there is one. */
static void
fixture_config(struct fixture *f, const char *publish)
{
	char path[] = "/tmp/linkyd-test-pipeline-conf-XXXXXX", err[CONFIG_ERROR_SIZE];
	struct config_args args = {.path = path};
	int fd = mkstemp(path);
	FILE *out = fdopen(fd, "w");

	assert_non_null(out);
	fprintf(out,
	        "meters = ( { input = \"/dev/null\"; } );\n"
	        "publish = { %s %s %s };\n"
	        "state_dir = \"%s\";\n",
	        strstr(publish, "derived") ? "" : "derived = false;",
	        strstr(publish, "index_guard") ? "" : "index_guard = false;", publish,
	        f->dir[0] ? f->dir : "/nonexistent");
	assert_int_equal(fclose(out), 0);
	if (config_load(&args, &f->c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	(void) unlink(path);
}

static void
fixture_start(struct fixture *f, const char *publish, const struct anon_key *anon)
{
	fixture_config(f, publish);
	assert_int_equal(pipeline_new(&f->c->meters[0], f->c, anon, &f->p), 0);
	assert_int_equal(pipeline_add_sink(f->p, &f->a.sink), 0);
	assert_int_equal(pipeline_add_sink(f->p, &f->b.sink), 0);
}

static void
fixture_done(struct fixture *f)
{
	pipeline_free(f->p);
	config_unref(f->c);
	if (f->dir[0]) {
		char path[128];

		snprintf(path, sizeof(path), "%s/meter.state", f->dir);
		(void) unlink(path);
		(void) rmdir(f->dir);
	}
}

static int
feed_frame(const struct tic_frame *frame, void *userdata)
{
	struct fixture *f = userdata;

	pipeline_frame(f->p, frame, f->mono_ms, f->wall);
	f->mono_ms += 1000;
	f->wall += 1;
	return 0;
}

/* The capture through the parser into the pipeline, times times. */
static void
feed_capture(struct fixture *f, const char *name, unsigned times)
{
	static const struct tic_parser_callbacks cbs = {.on_frame = feed_frame};
	struct tic_parser parser;
	size_t len;
	char *data = read_fixture(name, &len);

	tic_parser_init(&parser, &cbs, f);
	for (unsigned i = 0; i < times; i++)
		(void) tic_parser_feed(&parser, data, len);
	free(data);
}

static unsigned
count(const struct recording *r, enum rec_kind kind)
{
	unsigned n = 0;

	for (unsigned i = 0; i < r->n; i++)
		n += r->recs[i].kind == kind;
	return n;
}

static const struct record *
nth(const struct recording *r, enum rec_kind kind, unsigned k)
{
	for (unsigned i = 0; i < r->n; i++)
		if (r->recs[i].kind == kind && k-- == 0)
			return &r->recs[i];
	fail_msg("no record %u of kind %d", k, kind);
	return NULL;
}

/* Every frame to every sink, in the order the sinks were added, whole and all due. */
static void
test_every_frame_to_every_sink(void **state)
{
	struct fixture f;

	(void) state;
	fixture_init(&f);
	fixture_start(&f, "", NULL);
	feed_capture(&f, "historique-hchp-mono-01.tic", 1);
	assert_int_equal(count(&f.a, REC_FRAME), 82);
	assert_int_equal(count(&f.b, REC_FRAME), 82);
	assert_int_equal(f.a.first_seen, 1);
	assert_int_equal(f.b.first_seen, 2);
	for (unsigned k = 0; k < 82; k++) {
		const struct record *r = nth(&f.a, REC_FRAME, k);

		assert_true(r->publish);
		assert_int_equal(r->whole_groups, r->kept_groups);
		assert_int_equal(r->due_groups, r->kept_groups);
		assert_int_equal(r->mono_ms, 1000 + 1000 * k);
	}
	/* No derived values asked for: none handed out. */
	assert_int_equal(count(&f.a, REC_DERIVED), 0);
	fixture_done(&f);
}

/* The guard holds the indexes of the first frames back from kept, never from whole. */
static void
test_guard_holds_first_indexes(void **state)
{
	struct fixture f;

	(void) state;
	fixture_init(&f);
	fixture_start(&f, "index_guard = true;", NULL);
	feed_capture(&f, "standard-mono-base-01.tic", 4);
	assert_int_equal(count(&f.a, REC_FRAME), 4);
	for (unsigned k = 0; k < 4; k++) {
		const struct record *r = nth(&f.a, REC_FRAME, k);

		assert_true(r->whole_index);
		assert_int_equal(r->kept_index, k >= DERIVE_GUARD_CONFIRM - 1);
		assert_int_equal(r->whole_groups, 38);
		assert_true(r->kept_groups < 38 || k >= DERIVE_GUARD_CONFIRM - 1);
	}
	fixture_done(&f);
}

/* on_change: an unchanged frame is handed over, but not to publish, until the heartbeat. */
static void
test_policy_decides_publish(void **state)
{
	struct fixture f;

	(void) state;
	fixture_init(&f);
	fixture_start(&f, "policy = \"on_change\"; heartbeat = 60;", NULL);
	feed_capture(&f, "standard-mono-base-01.tic", 3);
	assert_true(nth(&f.a, REC_FRAME, 0)->publish);
	assert_false(nth(&f.a, REC_FRAME, 1)->publish);
	assert_int_equal(nth(&f.a, REC_FRAME, 1)->due_groups, 0);
	assert_false(nth(&f.b, REC_FRAME, 2)->publish);
	f.mono_ms += 60000;
	feed_capture(&f, "standard-mono-base-01.tic", 1);
	assert_true(nth(&f.a, REC_FRAME, 3)->publish);
	assert_int_equal(nth(&f.a, REC_FRAME, 3)->due_groups, 38);
	fixture_done(&f);
}

/* Anonymisation comes before every sink: the identifier is a pseudonym everywhere. */
static void
test_anonymised_before_sinks(void **state)
{
	struct fixture f;
	struct anon_key key;

	(void) state;
	fixture_init(&f);
	assert_int_equal(anon_key_from_secret("test", &key), 0);
	fixture_start(&f, "", &key);
	feed_capture(&f, "standard-mono-base-01.tic", 1);
	assert_int_equal(strlen(nth(&f.a, REC_FRAME, 0)->adsc), 12);
	assert_string_not_equal(nth(&f.a, REC_FRAME, 0)->adsc, "012345678910");
	assert_string_equal(nth(&f.a, REC_FRAME, 0)->adsc, nth(&f.b, REC_FRAME, 0)->adsc);
	fixture_done(&f);
}

/* Derived values after each frame to the sinks that want them; the state saved at close, then
 * every sink closed with the last values. */
static void
test_derived_and_close(void **state)
{
	struct fixture f;
	struct stat st;
	char path[128];

	(void) state;
	fixture_init(&f);
	strcpy(f.dir, "/tmp/linkyd-test-pipeline-XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	fixture_start(&f, "derived = true;", NULL);
	feed_capture(&f, "historique-hchp-mono-03.tic", 5);
	assert_int_equal(count(&f.a, REC_DERIVED), 5);
	assert_int_equal(count(&f.b, REC_DERIVED), 0);
	/* Each frame's derived values follow it. */
	assert_int_equal(f.a.recs[0].kind, REC_FRAME);
	assert_int_equal(f.a.recs[1].kind, REC_DERIVED);
	/* Whatever was saved so far, close saves again. */
	snprintf(path, sizeof(path), "%s/meter.state", f.dir);
	(void) unlink(path);
	pipeline_close(f.p, 1000);
	assert_int_equal(stat(path, &st), 0);
	assert_true(f.a.closed && f.b.closed);
	assert_true(nth(&f.a, REC_CLOSE, 0)->with_last);
	fixture_done(&f);
}

/* The line's status goes to the sinks that want it. */
static void
test_line_status(void **state)
{
	struct fixture f;
	struct tic_stats stats = {0};
	struct line_status st = {.state = LINE_SILENT, .stats = &stats};

	(void) state;
	fixture_init(&f);
	fixture_start(&f, "", NULL);
	pipeline_line(f.p, &st);
	assert_int_equal(count(&f.a, REC_LINE), 1);
	assert_int_equal(nth(&f.a, REC_LINE, 0)->line_state, LINE_SILENT);
	assert_int_equal(f.b.n, 0);
	pipeline_close(f.p, 0);
	assert_false(nth(&f.a, REC_CLOSE, 0)->with_last);
	fixture_done(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_frame_to_every_sink),
	    cmocka_unit_test(test_guard_holds_first_indexes),
	    cmocka_unit_test(test_policy_decides_publish),
	    cmocka_unit_test(test_anonymised_before_sinks),
	    cmocka_unit_test(test_derived_and_close),
	    cmocka_unit_test(test_line_status),
	};

	log_init(-1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
