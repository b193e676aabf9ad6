/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for what happens to a frame after the parser: anonymisation, the index guard
 * and the derived values, the publish policy, and the per-label payloads. fuzz_tic.c covers the
 * parser; here its frames, whatever the input made of them, go through the rest as the daemon
 * sends them, with a clock the input drives (so hours, days, months and silences go by).
 *
 * The first input byte is the clock: each frame moves the monotonic and the wall clocks on by
 * (byte + 1) x 997 ms, wrapping into larger steps as frames go. The rest is TIC bytes.
 *
 * Invariants (abort() when broken): pseudonyms keep the identifiers' length and are digits; the
 * guard only holds back energy indexes; the derived JSON always fits its documented maximum and
 * parses with cJSON; every per-label payload encodes; the policy engine publishes the first
 * frame.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "linkyd/anon.h"
#include "linkyd/derive.h"
#include "linkyd/json.h"
#include "linkyd/policy.h"
#include "linkyd/tic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

struct run {
	struct anon_key key;
	struct derive *derive;
	struct policy_engine *policy;
	uint64_t step_ms, mono_ms;
	time_t wall;
	unsigned frames;
	struct anon_frame anon;
	bool keep[TIC_FRAME_GROUPS], due[TIC_FRAME_GROUPS];
	char
	    json[DERIVE_ENERGY_JSON_MAX > JSON_FRAME_MAX ? DERIVE_ENERGY_JSON_MAX : JSON_FRAME_MAX];
};

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

static int
on_frame(const struct tic_frame *frame, void *userdata)
{
	struct run *r = userdata;
	const struct tic_frame *f = frame;
	int n;

	r->mono_ms += r->step_ms;
	r->wall += (time_t) (r->step_ms / 1000);
	/* Now and then a long gap: a night without the meter, a month away. */
	r->step_ms = r->step_ms * 7 % 4000000 + 997;

	CHECK(anon_frame(&r->key, frame, &r->anon) == 0);
	check_anon(frame, &r->anon.frame);
	f = &r->anon.frame;

	(void) derive_guard(r->derive, f, r->mono_ms, r->keep);
	for (unsigned i = 0; i < f->n_groups; i++) {
		const struct tic_label *def = f->groups[i].def;

		/* Only energy indexes (Wh or varh counters) are ever held back. */
		CHECK(r->keep[i] || (def && def->format == TIC_FMT_DIGITS && def->unit &&
		                     strstr(def->unit, "h")));
	}
	derive_frame(r->derive, f, r->keep, r->mono_ms, r->wall);
	check_json(r->json, derive_json(r->derive, r->json, sizeof(r->json)), DERIVE_JSON_MAX);
	if (derive_energy_changed(r->derive))
		check_json(r->json, derive_energy_json(r->derive, r->json, sizeof(r->json)),
		           DERIVE_ENERGY_JSON_MAX);

	CHECK(policy_engine_frame(r->policy, f, r->mono_ms, r->due, NULL) || r->frames > 0);
	for (unsigned i = 0; i < f->n_groups; i++) {
		n = json_encode_value(&f->groups[i], JSON_FORMAT_TYPED, r->json, JSON_FRAME_MAX);
		CHECK(n >= 0 && strlen(r->json) == (size_t) n);
		n = json_encode_value(&f->groups[i], JSON_FORMAT_RAW, r->json, JSON_FRAME_MAX);
		CHECK(n >= 0 && (size_t) n >= f->groups[i].value_len);
	}
	r->frames++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tic_parser_callbacks cbs = {.on_frame = on_frame};
	static const struct publish_config pc = {
	    .policy = {.kind = PUBLISH_ON_CHANGE, .deadband = 10, .heartbeat = 60}};
	static struct tic_parser parser;
	static struct run run;
	const struct derive_config dc = {0};

	if (size < 1)
		return 0;
	run.frames = 0;
	run.step_ms = ((uint64_t) data[0] + 1) * 997;
	run.mono_ms = 0;
	run.wall = 1767222000; /* 2025-12-31T23:00:00Z: a new year, day and month an hour later */
	CHECK(anon_key_from_secret("fuzz", &run.key) == 0);
	CHECK(derive_new(&dc, &run.derive, NULL) == 0);
	CHECK(policy_engine_new(&pc, &run.policy) == 0);
	tic_parser_init(&parser, &cbs, &run);
	(void) tic_parser_feed(&parser, data + 1, size - 1);
	run.derive = derive_free(run.derive);
	run.policy = policy_engine_free(run.policy);
	return 0;
}
