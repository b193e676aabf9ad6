/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for what happens to a frame after the parser: the daemon's own pipeline
 * (src/pipeline.c: anonymisation, the index guard and the derived values, the publish policy),
 * into a sink that checks every record and encodes what an MQTT sink would publish. fuzz_tic.c
 * covers the parser; here its frames, whatever the input made of them, go through the rest with
 * a clock the input drives (so hours, days, months and silences go by).
 *
 * The first input byte is the clock: each frame moves the monotonic and the wall clocks on by
 * (byte + 1) x 997 ms, wrapping into larger steps as frames go. The rest is TIC bytes.
 *
 * Invariants (abort() when broken): pseudonyms keep the identifiers' length and are digits; the
 * guard only holds back energy indexes; the derived JSON always fits its documented maximum and
 * parses with cJSON; the frame and every due label encode; the policy publishes the first frame.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "linkyd/json.h"
#include "linkyd/log.h"
#include "linkyd/pipeline.h"
#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	struct sink sink;
	struct pipeline *p;
	const struct tic_frame *original; /* as the parser delivered it */
	uint64_t step_ms, mono_ms;
	time_t wall;
	unsigned frames;
	char
	    json[DERIVE_ENERGY_JSON_MAX > JSON_FRAME_MAX ? DERIVE_ENERGY_JSON_MAX : JSON_FRAME_MAX];
};

/* The fuzzer's own directory, removed at exit. */
static char dir[] = "/dev/shm/fuzz_publish-XXXXXX";

static void
remove_dir(void)
{
	char path[64];

	snprintf(path, sizeof(path), "%s/linkyd.conf", dir);
	(void) unlink(path);
	snprintf(path, sizeof(path), "%s/meter.state", dir);
	(void) unlink(path);
	(void) rmdir(dir);
}

static void
check_json(const char *buf, int n, size_t max)
{
	cJSON *tree;

	CHECK(n > 0 && (size_t) n < max);
	tree = cJSON_ParseWithLength(buf, (size_t) n);
	CHECK(tree && cJSON_IsObject(tree));
	cJSON_Delete(tree);
}

static void
check_anon(const struct tic_frame *in, const struct tic_frame *out)
{
	CHECK(out->n_groups == in->n_groups && out->mode == in->mode);
	for (unsigned i = 0; i < in->n_groups; i++) {
		const struct tic_group *a = &in->groups[i], *b = &out->groups[i];

		CHECK(a->value_len == b->value_len && strlen(b->value) == b->value_len);
		if (!a->def || a->def->format != TIC_FMT_ID) {
			CHECK(strcmp(a->value, b->value) == 0);
			continue;
		}
		for (unsigned k = 0; k < b->value_len; k++)
			CHECK(b->value[k] >= '0' && b->value[k] <= '9');
		CHECK(tic_label_check(b->def, b->value, b->value_len) == 0);
	}
}

/* kept is whole without some energy indexes (Wh or varh counters), in the same order. */
static void
check_guard(const struct tic_frame *whole, const struct tic_frame *kept)
{
	unsigned k = 0;

	for (unsigned i = 0; i < whole->n_groups; i++) {
		const struct tic_group *g = &whole->groups[i];

		if (k < kept->n_groups && kept->groups[k].label == g->label) {
			k++;
			continue;
		}
		CHECK(g->def && g->def->format == TIC_FMT_DIGITS && g->def->unit &&
		      strstr(g->def->unit, "h"));
	}
	CHECK(k == kept->n_groups);
}

static void
on_frame(struct sink *s, const struct sink_frame *f)
{
	struct run *r = container_of(s, struct run, sink);
	int n;

	check_anon(r->original, f->whole);
	check_guard(f->whole, f->kept);
	CHECK(f->publish || r->frames > 0 || f->kept->n_groups == 0);
	if (f->publish) {
		n = json_encode_frame(f->kept, JSON_FORMAT_TYPED, r->json, JSON_FRAME_MAX);
		check_json(r->json, n, JSON_FRAME_MAX);
	}
	for (unsigned i = 0; i < f->kept->n_groups; i++) {
		if (!f->due[i])
			continue;
		n = json_encode_value(&f->kept->groups[i], JSON_FORMAT_TYPED, r->json,
		                      JSON_FRAME_MAX);
		CHECK(n >= 0 && strlen(r->json) == (size_t) n);
		n = json_encode_value(&f->kept->groups[i], JSON_FORMAT_RAW, r->json,
		                      JSON_FRAME_MAX);
		CHECK(n >= 0 && (size_t) n >= f->kept->groups[i].value_len);
	}
}

static void
on_derived(struct sink *s, const struct sink_derived *d)
{
	struct run *r = container_of(s, struct run, sink);

	check_json(r->json, derive_json(d->derive, r->json, sizeof(r->json)), DERIVE_JSON_MAX);
	if (d->energy_changed)
		check_json(r->json, derive_energy_json(d->derive, r->json, sizeof(r->json)),
		           DERIVE_ENERGY_JSON_MAX);
}

static void
on_free(struct sink *s)
{
	(void) s;
}

static const struct sink_ops check_ops = {
    .frame = on_frame,
    .derived = on_derived,
    .close = sink_close_at_once,
    .free = on_free,
};

static int
parser_frame(const struct tic_frame *frame, void *userdata)
{
	struct run *r = userdata;

	r->mono_ms += r->step_ms;
	r->wall += (time_t) (r->step_ms / 1000);
	/* Now and then a long gap: a night without the meter, a month away. */
	r->step_ms = r->step_ms * 7 % 4000000 + 997;
	r->original = frame;
	pipeline_frame(r->p, frame, r->mono_ms, r->wall);
	r->frames++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tic_parser_callbacks cbs = {.on_frame = parser_frame};
	static const struct linkyd_config *c;
	static struct anon_key key;
	static struct tic_parser parser;
	static struct run run = {.sink = {.ops = &check_ops}};

	if (size < 1)
		return 0;
	if (!c) {
		/* The daemon's defaults (guard and derived values on), the policy that keeps state,
		 * identifiers anonymised; the state file in memory (/dev/shm), as the fuzz clock
		 * ends periods all the time. */
		char path[64], err[CONFIG_ERROR_SIZE];
		struct config_args args = {.path = path};
		FILE *f;

		CHECK(mkdtemp(dir));
		(void) atexit(remove_dir);
		snprintf(path, sizeof(path), "%s/linkyd.conf", dir);
		CHECK((f = fopen(path, "w")));
		fprintf(f,
		        "publish = { policy = \"on_change\"; deadband = 10; heartbeat = 60; };\n"
		        "state_dir = \"%s\";\n",
		        dir);
		CHECK(fclose(f) == 0);
		log_init(-1);
		CHECK(config_load(&args, &c, err, sizeof(err)) == 0);
		CHECK(anon_key_from_secret("fuzz", &key) == 0);
	}
	run.frames = 0;
	run.step_ms = ((uint64_t) data[0] + 1) * 997;
	run.mono_ms = 0;
	run.wall = 1767222000; /* 2025-12-31T23:00:00Z: a new year, day and month an hour later */
	CHECK(pipeline_new(&c->meters[0], c, &key, &run.p) == 0);
	CHECK(pipeline_add_sink(run.p, &run.sink) == 0);
	tic_parser_init(&parser, &cbs, &run);
	(void) tic_parser_feed(&parser, data + 1, size - 1);
	pipeline_close(run.p, 0);
	run.p = pipeline_free(run.p);
	return 0;
}
