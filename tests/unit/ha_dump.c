/* SPDX-License-Identifier: MIT */
/*
 * `ha_dump CAPTURE [TIMES]`: what linkyd publishes for Home Assistant while a capture plays TIMES
 * times in a row (default 1), for test_ha_templates.py. The frames go through the index guard,
 * the derived values and discovery in publisher.c's order, and every message comes out as one
 * line, "topic TAB payload" (an empty payload deletes a config): the discovery configs, the
 * frames on "linky" as the guard left them, "linky/derived" after each frame, and "linky/energy"
 * when it changed. One frame every FRAME_MS from a fixed wall time, so that the output is the
 * same on every run (given TZ).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linkyd/derive.h"
#include "linkyd/ha.h"
#include "linkyd/json.h"

#define TOPIC    "linky"
#define FRAME_MS 1500
#define START    1741351430 /* 2025-03-07T12:43:50Z */

struct dump {
	struct derive *derive;
	struct ha_discovery *ha;
	uint64_t now_ms;
	bool keep[TIC_FRAME_GROUPS];
	struct tic_group kept[TIC_FRAME_GROUPS];
	char json[JSON_FRAME_MAX];
};

static int
print(const char *topic, const char *payload, size_t len, void *ctx)
{
	(void) ctx;
	printf("%s\t%.*s\n", topic, (int) len, payload);
	return 0;
}

static void
print_json(const char *topic, const char *json, int n)
{
	if (n < 0) {
		fprintf(stderr, "ha_dump: cannot encode %s: %s\n", topic, strerror(-n));
		exit(1);
	}
	(void) print(topic, json, (size_t) n, NULL);
}

static int
on_frame(const struct tic_frame *frame, void *userdata)
{
	struct dump *d = userdata;
	struct tic_frame kept = {.mode = frame->mode, .groups = d->kept};
	struct derive_info info;

	d->now_ms += FRAME_MS;
	(void) derive_guard(d->derive, frame, d->now_ms, d->keep);
	derive_frame(d->derive, frame, d->keep, d->now_ms, START + (time_t) (d->now_ms / 1000));
	for (unsigned i = 0; i < frame->n_groups; i++)
		if (d->keep[i])
			d->kept[kept.n_groups++] = frame->groups[i];
	ha_discovery_frame(d->ha, frame);
	derive_info(d->derive, &info);
	ha_discovery_derived(d->ha, &info, false);
	if (kept.n_groups > 0)
		print_json(TOPIC, d->json,
		           json_encode_frame(&kept, JSON_FORMAT_TYPED, d->json, sizeof(d->json)));
	print_json(TOPIC "/derived", d->json, derive_json(d->derive, d->json, sizeof(d->json)));
	if (derive_energy_changed(d->derive))
		print_json(TOPIC "/energy", d->json,
		           derive_energy_json(d->derive, d->json, sizeof(d->json)));
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct tic_parser_callbacks cbs = {.on_frame = on_frame};
	static struct dump d;
	static struct tic_parser parser;
	const struct derive_config dc = {0};
	const struct ha_config hc = {
	    .discovery = true, .prefix = "homeassistant", .expire_after = 120};
	int times = argc == 3 ? atoi(argv[2]) : 1;
	char buf[4096];
	ssize_t n = 0;

	if (argc < 2 || argc > 3 || times < 1) {
		fprintf(stderr, "usage: ha_dump CAPTURE [TIMES]\n");
		return 2;
	}
	if (derive_new(&dc, &d.derive, NULL) < 0 ||
	    ha_discovery_new(&hc, TOPIC, print, NULL, &d.ha) < 0) {
		fprintf(stderr, "ha_dump: out of memory\n");
		return 1;
	}
	tic_parser_init(&parser, &cbs, &d);
	for (int i = 0; i < times && n >= 0; i++) {
		int fd = open(argv[1], O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			fprintf(stderr, "ha_dump: cannot open '%s': %s\n", argv[1],
			        strerror(errno));
			return 1;
		}
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			(void) tic_parser_feed(&parser, buf, (size_t) n);
		(void) close(fd);
	}
	ha_discovery_free(d.ha);
	derive_free(d.derive);
	return n < 0 || fflush(stdout) != 0 ? 1 : 0;
}
