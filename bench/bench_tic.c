/* SPDX-License-Identifier: MIT */
/*
 * Throughput of the TIC decoder on long captures generated from real frames: a memchr floor, the
 * parser alone, the parser handing its frames to a callback, the parser with typed JSON encoding,
 * and the whole publisher per frame, side by side, with heap allocations counted. `--stage` runs
 * one stage once, for callgrind (bench/run.sh).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "linkyd/derive.h"
#include "linkyd/json.h"
#include "linkyd/policy.h"
#include "linkyd/tic.h"

/* What the daemon reads at a time from a tty, roughly; the parser must not care. */
#define CHUNK 4096

/* The target for parser + JSON on a standard mono frame. */
#define JSON_TARGET_NS 5000.0

__attribute__((format(printf, 1, 2), noreturn)) static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("linkyd_bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(EXIT_FAILURE);
}

/* ---- Heap allocation counter ----------------------------------------------------------------- */

/*
 * malloc and friends defined in the executable take precedence over libc's for every library
 * loaded (cJSON included), so counting here sees each allocation of a stage. Under a sanitizer
 * the runtime owns malloc; counting is then skipped instead of fighting it.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define COUNT_ALLOCS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||                         \
    __has_feature(memory_sanitizer)
#define COUNT_ALLOCS 0
#endif
#endif
#ifndef COUNT_ALLOCS
#define COUNT_ALLOCS 1
#endif

static uint64_t n_allocs;

#if COUNT_ALLOCS
void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *ptr, size_t size);

void *
malloc(size_t size)
{
	n_allocs++;
	return __libc_malloc(size);
}

void *
calloc(size_t n, size_t size)
{
	n_allocs++;
	return __libc_calloc(n, size);
}

void *
realloc(void *ptr, size_t size)
{
	n_allocs++;
	return __libc_realloc(ptr, size);
}
#endif

/* ---- Frame templates ------------------------------------------------------------------------- */

/* tests/data/historique-hchp-mono-03.tic, whole. */
static const char hist_frame[] = "\x02"
                                 "\nADCO 811775412275 I\r"
                                 "\nOPTARIF HC.. <\r"
                                 "\nISOUSC 45 ?\r"
                                 "\nHCHC 004070290 \\\r"
                                 "\nHCHP 006438891 :\r"
                                 "\nPTEC HP..  \r"
                                 "\nIINST 004 [\r"
                                 "\nIMAX 090 H\r"
                                 "\nPAPP 01090 +\r"
                                 "\nHHPHC A ,\r"
                                 "\nMOTDETAT 000000 B\r"
                                 "\x03";

/* tests/data/standard-mono-base-01.tic, whole. */
static const char std_frame[] =
    "\x02"
    "\nADSC\t012345678910\t;\r"
    "\nVTIC\t02\tJ\r"
    "\nDATE\tH240210121355\t\t;\r"
    "\nNGTF\tbase            \t<\r"
    "\nLTARF\tBASE            \tF\r"
    "\nEAST\t003519702\t*\r"
    "\nEASF01\t003519702\t=\r"
    "\nEASF02\t000000000\t#\r"
    "\nEASF03\t000000000\t$\r"
    "\nEASF04\t000000000\t%\r"
    "\nEASF05\t000000000\t&\r"
    "\nEASF06\t000000000\t'\r"
    "\nEASF07\t000000000\t(\r"
    "\nEASF08\t000000000\t)\r"
    "\nEASF09\t000000000\t*\r"
    "\nEASF10\t000000000\t\"\r"
    "\nEASD01\t003519702\t;\r"
    "\nEASD02\t000000000\t!\r"
    "\nEASD03\t000000000\t\"\r"
    "\nEASD04\t000000000\t#\r"
    "\nIRMS1\t001\t/\r"
    "\nURMS1\t242\tB\r"
    "\nPREF\t06\tE\r"
    "\nPCOUP\t06\t_\r"
    "\nSINSTS\t00263\tQ\r"
    "\nSMAXSN\tH240210110331\t00986\t6\r"
    "\nSMAXSN-1\tH240209211759\t01422\t^\r"
    "\nCCASN\tH240210120000\t00108\t0\r"
    "\nCCASN-1\tH240210113000\t00300\tJ\r"
    "\nUMOY1\tH240210121000\t241\t\"\r"
    "\nSTGE\t003A0000\t9\r"
    "\nMSG1\tPAS DE          MESSAGE         \t<\r"
    "\nPRM\t00000000000000\tA\r"
    "\nRELAIS\t001\tC\r"
    "\nNTARF\t01\tN\r"
    "\nNJOURF\t00\t&\r"
    "\nNJOURF+1\t00\tB\r"
    "\nPJOURF+1\t0000C001 NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE "
    "NONUTILE NONUTILE\tD\r"
    "\x03";

/* The first complete frame of tests/data/standard-tri-tempo-noise-01.tic, which has no noise. */
static const char tri_frame[] =
    "\x02"
    "\nADSC\t041776199277\tI\r"
    "\nVTIC\t02\tJ\r"
    "\nDATE\tH200214230804\t\t;\r"
    "\nNGTF\t     TEMPO      \tF\r"
    "\nLTARF\t   HC  BLANC    \t6\r"
    "\nEAST\t021849106\t.\r"
    "\nEASF01\t004855593\tI\r"
    "\nEASF02\t014090959\tH\r"
    "\nEASF03\t000487131\t<\r"
    "\nEASF04\t001481464\tA\r"
    "\nEASF05\t000227596\tE\r"
    "\nEASF06\t000706363\t@\r"
    "\nEASF07\t000000000\t(\r"
    "\nEASF08\t000000000\t)\r"
    "\nEASF09\t000000000\t*\r"
    "\nEASF10\t000000000\t\"\r"
    "\nEASD01\t021849106\t?\r"
    "\nEASD02\t000000000\t!\r"
    "\nEASD03\t000000000\t\"\r"
    "\nEASD04\t000000000\t#\r"
    "\nIRMS1\t003\t1\r"
    "\nIRMS2\t006\t5\r"
    "\nIRMS3\t003\t3\r"
    "\nURMS1\t237\tF\r"
    "\nURMS2\t238\tH\r"
    "\nURMS3\t235\tF\r"
    "\nPREF\t30\tB\r"
    "\nPCOUP\t30\t\\\r"
    "\nSINSTS\t02700\tO\r"
    "\nSINSTS1\t00664\tG\r"
    "\nSINSTS2\t01373\tF\r"
    "\nSINSTS3\t00664\tI\r"
    "\nSMAXSN\tH200214175135\t10802\t7\r"
    "\nSMAXSN1\tH200214175135\t03411\t&\r"
    "\nSMAXSN2\tH200214175135\t03899\t;\r"
    "\nSMAXSN3\tH200214175135\t03512\t*\r"
    "\nSMAXSN-1\tH200213085118\t09562\t \r"
    "\nSMAXSN1-1\tH200213085118\t03129\tJ\r"
    "\nSMAXSN2-1\tH200213101142\t03366\t@\r"
    "\nSMAXSN3-1\tH200213085118\t03191\tK\r"
    "\nCCASN\tH200214230000\t01650\t5\r"
    "\nCCASN-1\tH200214225000\t00786\t \r"
    "\nUMOY1\tH200214230000\t237\t(\r"
    "\nUMOY2\tH200214230000\t238\t*\r"
    "\nUMOY3\tH200214230000\t236\t)\r"
    "\nSTGE\t463A0800\tK\r"
    "\nDPM1\t 200214060000\t00\t\\\r"
    "\nFPM1\t 200215060000\t00\t_\r"
    "\nMSG1\tPAS DE          MESSAGE         \t<\r"
    "\nPRM\t07361794479930\tF\r"
    "\nRELAIS\t001\tC\r"
    "\nNTARF\t03\tP\r"
    "\nNJOURF\t00\t&\r"
    "\nNJOURF+1\t00\tB\r"
    "\nPJOURF+1\t00004001 06004002 22004001 NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE "
    "NONUTILE NONUTILE\t.\r"
    "\x03";

/* ---- Captures -------------------------------------------------------------------------------- */

/* What a varying group shows, from the simulated meter below. */
enum quantity {
	Q_ENERGY,  /* the template's index plus the energy drawn since the first frame, Wh */
	Q_POWER,   /* apparent power, VA */
	Q_CURRENT, /* A */
	Q_VOLTAGE, /* V */
	Q_CLOCK,   /* the horodate's hhmmss, running from the template's */
};

struct field {
	const char *label;
	enum quantity quantity;
	unsigned phase; /* 1..3, or 0 for the total */
};

#define FIELDS_MAX 16

struct capture_def {
	const char *name; /* for --capture */
	const char *desc;
	const char *frame;
	size_t frame_len;
	enum tic_mode mode;
	unsigned period_ms; /* between two frames (docs/tic.md §2) */
	unsigned phases;
	unsigned max_power; /* VA per phase: the subscribed power */
	struct field fields[FIELDS_MAX];
};

#define FRAME(s) s, sizeof(s) - 1

/* Only the groups that really move between frames vary: indexes, power, current, voltage and
 * the clock. The current tariff's index is the one that grows (HCHP with PTEC HP.., EASF01 with
 * NTARF 01, EASF03 with NTARF 03). */
static const struct capture_def captures[] = {
    {"hist",
     "historique HC/HP mono",
     FRAME(hist_frame),
     TIC_MODE_HISTORIQUE,
     1400,
     1,
     10000,
     {{"HCHP", Q_ENERGY, 0}, {"IINST", Q_CURRENT, 1}, {"PAPP", Q_POWER, 0}}},
    {"std",
     "standard BASE mono",
     FRAME(std_frame),
     TIC_MODE_STANDARD,
     900,
     1,
     6000,
     {{"DATE", Q_CLOCK, 0},
      {"EAST", Q_ENERGY, 0},
      {"EASF01", Q_ENERGY, 0},
      {"EASD01", Q_ENERGY, 0},
      {"IRMS1", Q_CURRENT, 1},
      {"URMS1", Q_VOLTAGE, 1},
      {"SINSTS", Q_POWER, 0}}},
    {"tri",
     "standard TEMPO triphasé",
     FRAME(tri_frame),
     TIC_MODE_STANDARD,
     1300,
     3,
     10000,
     {{"DATE", Q_CLOCK, 0},
      {"EAST", Q_ENERGY, 0},
      {"EASF03", Q_ENERGY, 0},
      {"EASD01", Q_ENERGY, 0},
      {"IRMS1", Q_CURRENT, 1},
      {"IRMS2", Q_CURRENT, 2},
      {"IRMS3", Q_CURRENT, 3},
      {"URMS1", Q_VOLTAGE, 1},
      {"URMS2", Q_VOLTAGE, 2},
      {"URMS3", Q_VOLTAGE, 3},
      {"SINSTS", Q_POWER, 0},
      {"SINSTS1", Q_POWER, 1},
      {"SINSTS2", Q_POWER, 2},
      {"SINSTS3", Q_POWER, 3}}},
};
#define N_CAPTURES (sizeof(captures) / sizeof(captures[0]))

/* A generated capture: frames copies of the template, each with its own values. */
struct capture {
	const struct capture_def *def;
	char *buf;
	size_t len;
	uint64_t frames, groups;
};

/*
 * The check character of a group g[0..len) (between LF and CR, check character last): the
 * sum runs up to the last separator, which historique leaves out. The floor calls this too, so that
 * it does the same checksum work as the parser and no more.
 */
static inline char
group_check(const char *g, size_t len)
{
	unsigned sum = 0;

	for (size_t i = 0; i + 1 < len; i++)
		sum += (unsigned char) g[i];
	if (g[len - 2] == TIC_SP)
		sum -= TIC_SP;
	return (char) ((sum & 0x3f) + 0x20);
}

/* Where a field sits in the template: the digits to rewrite and the group to re-check. */
struct slot {
	const struct field *field;
	size_t group, group_len; /* offset and length of the text between LF and CR */
	size_t digits, width;
	uint64_t base; /* the template's value: index in Wh, or time of day in s */
};

static uint64_t
digits_value(const char *s, size_t width)
{
	uint64_t v = 0;

	for (size_t i = 0; i < width; i++)
		v = v * 10 + (uint64_t) (s[i] - '0');
	return v;
}

static void
put_digits(char *s, size_t width, uint64_t v)
{
	while (width-- > 0) {
		s[width] = (char) ('0' + v % 10);
		v /= 10;
	}
}

static void
slot_find(const struct capture_def *def, const struct field *f, struct slot *ret)
{
	size_t label_len = strlen(f->label);
	const char *t = def->frame, *g = t;

	while ((g = strchr(g, TIC_LF)) != NULL) {
		g++;
		if (strncmp(g, f->label, label_len) == 0 &&
		    (g[label_len] == TIC_HT || g[label_len] == TIC_SP))
			break;
	}
	if (!g)
		die("%s: no %s group in the template", def->name, f->label);
	ret->field = f;
	ret->group = (size_t) (g - t);
	ret->group_len = (size_t) (strchr(g, TIC_CR) - g);
	if (f->quantity == Q_CLOCK) {
		/* Label, HT, then the horodate's season letter and YYMMDD before hhmmss. */
		ret->digits = ret->group + label_len + 1 + 7;
		ret->width = 6;
		ret->base = digits_value(t + ret->digits, 2) * 3600 +
		            digits_value(t + ret->digits + 2, 2) * 60 +
		            digits_value(t + ret->digits + 4, 2);
	} else {
		/* The value is the last field, between the two last separators. */
		size_t end = ret->group + ret->group_len - 2, start = end;

		while (t[start - 1] != t[end])
			start--;
		ret->digits = start;
		ret->width = end - start;
		ret->base = digits_value(t + start, ret->width);
	}
}

/* A meter whose phases each draw a power that wanders between 0 and the subscribed power. */
struct meter {
	uint64_t rng;
	uint64_t ms;    /* since the first frame */
	uint64_t va_ms; /* energy since the first frame */
	unsigned power[4], voltage[4];
};

static unsigned
meter_random(struct meter *m, unsigned n)
{
	/* xorshift64: reproducible, so that callgrind runs count the same work each time. */
	m->rng ^= m->rng << 13;
	m->rng ^= m->rng >> 7;
	m->rng ^= m->rng << 17;
	return (unsigned) (m->rng % n);
}

static void
meter_step(struct meter *m, const struct capture_def *def)
{
	m->power[0] = 0;
	for (unsigned p = 1; p <= def->phases; p++) {
		/* A random walk pulled back towards a quarter of the subscribed power. */
		int w = (int) m->power[p] + (int) meter_random(m, 801) - 400 +
		        ((int) def->max_power / 4 - (int) m->power[p]) / 16;

		m->power[p] = w < 0 ? 0 : w > (int) def->max_power ? def->max_power : (unsigned) w;
		m->voltage[p] = 225 + meter_random(m, 21);
		m->power[0] += m->power[p];
	}
	m->va_ms += (uint64_t) m->power[0] * def->period_ms;
	m->ms += def->period_ms;
}

static uint64_t
slot_value(const struct slot *s, const struct meter *m)
{
	unsigned phase = s->field->phase;
	uint64_t tod;

	switch (s->field->quantity) {
	case Q_ENERGY:
		return s->base + m->va_ms / 3600000;
	case Q_POWER:
		return m->power[phase];
	case Q_CURRENT:
		return (m->power[phase] + m->voltage[phase] / 2) / m->voltage[phase];
	case Q_VOLTAGE:
		return m->voltage[phase];
	case Q_CLOCK:
		/* The date stays, the time of day runs (and wraps): enough to vary the bytes. */
		tod = (s->base + m->ms / 1000) % 86400;
		return tod / 3600 * 10000 + tod / 60 % 60 * 100 + tod % 60;
	}
	return 0;
}

static unsigned
frame_groups(const struct capture_def *def)
{
	unsigned n = 0;

	for (const char *g = def->frame; (g = strchr(g, TIC_LF)) != NULL; g++)
		n++;
	return n;
}

static void
capture_generate(const struct capture_def *def, uint64_t frames, struct capture *ret)
{
	struct slot slots[FIELDS_MAX];
	size_t n_slots = 0, len = def->frame_len, size;
	struct meter m = {.rng = 0x9e3779b97f4a7c15u};
	char *buf;

	for (; n_slots < FIELDS_MAX && def->fields[n_slots].label; n_slots++)
		slot_find(def, &def->fields[n_slots], &slots[n_slots]);
	for (unsigned p = 1; p <= def->phases; p++)
		m.power[p] = def->max_power / 4;

	/* On a 32-bit host the capture's size may not fit a size_t: refuse rather than wrap. */
	if (frames > SIZE_MAX / len)
		die("%s: %" PRIu64 " frames of %zu bytes do not fit in memory", def->name, frames,
		    len);
	size = len * (size_t) frames;
	buf = malloc(size);
	if (!buf)
		die("%s: cannot allocate %zu MB", def->name, size >> 20);
	for (size_t i = 0; i < (size_t) frames; i++) {
		char *f = buf + i * len;

		memcpy(f, def->frame, len);
		meter_step(&m, def);
		for (size_t k = 0; k < n_slots; k++) {
			const struct slot *s = &slots[k];

			put_digits(f + s->digits, s->width, slot_value(s, &m));
			f[s->group + s->group_len - 1] = group_check(f + s->group, s->group_len);
		}
	}
	*ret = (struct capture){def, buf, size, frames, frames * frame_groups(def)};
}

/* ---- The stages ------------------------------------------------------------------------------ */

enum stage {
	STAGE_NONE, /* generation only: the callgrind baseline */
	STAGE_FLOOR,
	STAGE_PARSER,  /* the parser with no callback: every group validated, no frame delivered */
	STAGE_FRAMES,  /* the parser delivering each frame to a callback, as the daemon's */
	STAGE_JSON,    /* ... that encodes it as typed JSON */
	STAGE_PUBLISH, /* ... that runs the publisher's work on it (publisher_sim below) */
};
#define STAGE_COUNT (STAGE_PUBLISH + 1)
static const char *const stage_names[] = {"none", "floor", "parser", "frames", "json", "publish"};
/*
 * The least any validating decoder must do: find each frame's STX and ETX and each group's
 * LF and CR with memchr, and sum the group to compare its check character. Returns the
 * valid groups.
 */
static uint64_t
floor_scan(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *etx, *lf, *cr;
	uint64_t valid = 0;

	while ((p = memchr(p, TIC_STX, (size_t) (end - p))) != NULL &&
	       (etx = memchr(p, TIC_ETX, (size_t) (end - p))) != NULL) {
		while ((lf = memchr(p, TIC_LF, (size_t) (etx - p))) != NULL &&
		       (cr = memchr(lf, TIC_CR, (size_t) (etx - lf))) != NULL) {
			valid += group_check(lf + 1, (size_t) (cr - lf - 1)) == cr[-1];
			p = cr + 1;
		}
		p = etx + 1;
	}
	return valid;
}

static void
feed(struct tic_parser *p, const struct capture *c)
{
	for (size_t off = 0; off < c->len; off += CHUNK) {
		size_t n = c->len - off < CHUNK ? c->len - off : CHUNK;

		if (tic_parser_feed(p, c->buf + off, n) != n)
			die("%s: the parser stopped at offset %zu", c->def->name, off);
	}
}

static int
on_frame_count(const struct tic_frame *frame, void *userdata)
{
	*(uint64_t *) userdata += frame->n_groups;
	return 0;
}

static int
on_frame_json(const struct tic_frame *frame, void *userdata)
{
	static char json[JSON_FRAME_MAX];
	int r = json_encode_frame(frame, JSON_FORMAT_TYPED, json, sizeof(json));

	if (r < 0)
		die("json_encode_frame: %d", r);
	*(uint64_t *) userdata += (uint64_t) r;
	return 0;
}

/* ---- The publisher's work per frame ---------------------------------------------------------- */

/*
 * What src/publish/publisher.c does with each frame once it has one, minus MQTT, Home Assistant
 * and anonymisation (off by default): the index guard, the derived values, the frame without
 * what the guard held back, the on_change policy of README's example (dead-band 20, heartbeat
 * 60 s), the frame's typed JSON and the due labels' payloads, then <topic>/derived (encoded
 * every frame, as publish_derived() does) and <topic>/energy when it changed, at most once a
 * minute. The clock is the capture's: frame k arrives at k times its period.
 */
#define SIM_DEADBAND   20
#define SIM_HEARTBEAT  60
#define SIM_ENERGY_MS  60000
#define SIM_WALL_START 1773144000 /* 2026-03-10 12:00 UTC */

struct publisher_sim {
	const struct capture_def *def;
	struct derive *derive;
	struct policy_engine *policy;
	uint64_t frames, now_ms, energy_ms;
	uint64_t bytes; /* of every payload: the stage's result */
	struct tic_frame kept;
	struct tic_group kept_groups[TIC_FRAME_GROUPS];
	bool keep[TIC_FRAME_GROUPS];
	bool due[TIC_FRAME_GROUPS];
	char json[JSON_FRAME_MAX];
};

/* Outside the timed run: the daemon creates these once per meter. */
static void
publisher_sim_init(struct publisher_sim *sim, const struct capture_def *def)
{
	const struct derive_config dc = {0};
	const struct publish_config pc = {
	    .policy = {.kind = PUBLISH_ON_CHANGE,
	               .deadband = SIM_DEADBAND,
	               .heartbeat = SIM_HEARTBEAT},
	    .label_topics = true,
	    .derived = true,
	    .index_guard = true,
	};
	time_t t = SIM_WALL_START;
	struct tm tm;

	sim->def = def;
	sim->frames = sim->now_ms = sim->energy_ms = sim->bytes = 0;
	if (derive_new(&dc, &sim->derive, NULL) < 0 || policy_engine_new(&pc, &sim->policy) < 0)
		die("out of memory");
	/* The time zone, loaded once by the C library on its first use. */
	(void) localtime_r(&t, &tm);
}

static void
publisher_sim_done(struct publisher_sim *sim)
{
	sim->derive = derive_free(sim->derive);
	sim->policy = policy_engine_free(sim->policy);
}

/* A payload of n bytes (or an encoding error) "published". */
static void
sim_payload(struct publisher_sim *sim, int n)
{
	if (n < 0)
		die("encoding: %d", n);
	sim->bytes += (uint64_t) n;
}

static int
on_frame_publish(const struct tic_frame *frame, void *userdata)
{
	struct publisher_sim *sim = userdata;
	uint64_t now_ms = sim->now_ms = ++sim->frames * sim->def->period_ms;
	char *json = sim->json;
	size_t size = sizeof(sim->json);
	unsigned n = 0;
	bool alarm;

	(void) derive_guard(sim->derive, frame, now_ms, sim->keep);
	derive_frame(sim->derive, frame, sim->keep, now_ms,
	             (time_t) (SIM_WALL_START + now_ms / 1000));
	for (unsigned i = 0; i < frame->n_groups; i++)
		if (sim->keep[i])
			sim->kept_groups[n++] = frame->groups[i];
	if (n < frame->n_groups) {
		sim->kept = (struct tic_frame){frame->mode, n, sim->kept_groups};
		frame = &sim->kept;
	}
	(void) derive_save_due(sim->derive);
	if (n > 0 && policy_engine_frame(sim->policy, frame, now_ms, sim->due, &alarm)) {
		sim_payload(sim, json_encode_frame(frame, JSON_FORMAT_TYPED, json, size));
		for (unsigned i = 0; i < frame->n_groups; i++)
			if (sim->due[i])
				sim_payload(sim, json_encode_value(&frame->groups[i],
				                                   JSON_FORMAT_TYPED, json, size));
	}
	sim_payload(sim, derive_json(sim->derive, json, size));
	if (!sim->energy_ms || now_ms - sim->energy_ms >= SIM_ENERGY_MS) {
		if (derive_energy_changed(sim->derive))
			sim_payload(sim, derive_energy_json(sim->derive, json, size));
		sim->energy_ms = now_ms;
	}
	return 0;
}

/* Run one stage over the whole capture (sim: set up for STAGE_PUBLISH, else unused). Returns
 * groups (floor, parser, frames) or payload bytes (json, publish). */
static uint64_t
stage_run(enum stage stage, const struct capture *c, struct publisher_sim *sim)
{
	static const struct tic_parser_callbacks none_cb = {NULL};
	static const struct tic_parser_callbacks count_cb = {on_frame_count};
	static const struct tic_parser_callbacks json_cb = {on_frame_json};
	static const struct tic_parser_callbacks publish_cb = {on_frame_publish};
	static struct tic_parser p;
	uint64_t n = 0;

	switch (stage) {
	case STAGE_NONE:
		break;
	case STAGE_FLOOR:
		n = floor_scan(c->buf, c->len);
		break;
	case STAGE_PARSER:
		tic_parser_init(&p, &none_cb, NULL);
		feed(&p, c);
		n = tic_parser_stats(&p)->groups;
		break;
	case STAGE_FRAMES:
		tic_parser_init(&p, &count_cb, &n);
		feed(&p, c);
		break;
	case STAGE_JSON:
		tic_parser_init(&p, &json_cb, &n);
		feed(&p, c);
		break;
	case STAGE_PUBLISH:
		tic_parser_init(&p, &publish_cb, sim);
		feed(&p, c);
		n = sim->bytes;
		break;
	}
	if (stage >= STAGE_FLOOR && stage <= STAGE_FRAMES && n != c->groups)
		die("%s %s: %llu groups out of %llu", c->def->name, stage_names[stage],
		    (unsigned long long) n, (unsigned long long) c->groups);
	return n;
}

/* stage_run() with the publisher set up before and freed after, as --stage runs it. */
static uint64_t
stage_run_alone(enum stage stage, const struct capture *c)
{
	struct publisher_sim *sim = malloc(sizeof(*sim));
	uint64_t n;

	if (!sim)
		die("out of memory");
	publisher_sim_init(sim, c->def);
	n = stage_run(stage, c, sim);
	publisher_sim_done(sim);
	free(sim);
	return n;
}

struct verify {
	const struct capture *c;
	unsigned groups; /* per frame */
	bool bad;
};

static int
on_frame_verify(const struct tic_frame *frame, void *userdata)
{
	struct verify *v = userdata;

	v->bad |= frame->n_groups != v->groups || frame->mode != v->c->def->mode;
	return 0;
}

/* Every generated frame must come out whole: any dropped group or frame aborts the bench. */
static void
capture_verify(const struct capture *c)
{
	static const struct tic_parser_callbacks cb = {on_frame_verify};
	static struct tic_parser p;
	struct verify v = {c, (unsigned) (c->groups / c->frames), false};
	const struct tic_stats *st = tic_parser_stats(&p);
	uint64_t errors = 0;

	tic_parser_init(&p, &cb, &v);
	feed(&p, c);
	for (int i = 0; i < TIC_ERR_COUNT; i++)
		errors += st->errors[i];
	if (v.bad || st->frames != c->frames || st->groups != c->groups || errors ||
	    st->frames_interrupted || st->frames_empty || st->bytes_skipped)
		die("%s: the parser rejected part of the generated capture: %llu/%llu frames, "
		    "%llu/%llu groups, %llu errors",
		    c->def->name, (unsigned long long) st->frames, (unsigned long long) c->frames,
		    (unsigned long long) st->groups, (unsigned long long) c->groups,
		    (unsigned long long) errors);
}

/* ---- Measuring ------------------------------------------------------------------------------- */

static uint64_t
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

struct result {
	uint64_t ns;     /* best CPU time */
	uint64_t allocs; /* heap allocations in one run */
};

/* Best of reps for each timed stage, the stages taking turns so that a burst of load on the
 * machine does not land on one stage only and skew the ratios to the floor. */
static void
measure(const struct capture *c, unsigned reps, struct result ret[STAGE_COUNT])
{
	struct publisher_sim *sim = malloc(sizeof(*sim));

	if (!sim)
		die("out of memory");
	for (int s = STAGE_FLOOR; s < STAGE_COUNT; s++)
		ret[s] = (struct result){UINT64_MAX, 0};
	for (unsigned r = 0; r < reps; r++) {
		for (int s = STAGE_FLOOR; s < STAGE_COUNT; s++) {
			uint64_t a, t;

			/* A fresh publisher each run: the capture's indexes start over. */
			publisher_sim_init(sim, c->def);
			a = n_allocs;
			t = cpu_ns();
			(void) stage_run((enum stage) s, c, sim);
			t = cpu_ns() - t;
			if (t < ret[s].ns)
				ret[s] = (struct result){t, n_allocs - a};
			publisher_sim_done(sim);
		}
	}
	free(sim);
}

static void
print_row(const struct capture *c, enum stage stage, struct result r, struct result floor)
{
	double ns = (double) r.ns;

	printf("| %s | %s | %.0f | %.0f | %.3f | %.0f | %.2f | ", c->def->name, stage_names[stage],
	       (double) c->len * 1e3 / ns, (double) c->frames * 1e9 / ns, ns / (double) c->len,
	       ns / (double) c->frames, ns / (double) floor.ns);
	if (COUNT_ALLOCS)
		printf("%.3g | %.3g |\n", (double) r.allocs / (double) c->groups,
		       (double) r.allocs / (double) c->frames);
	else
		printf("n/a | n/a |\n");
}

static const char *
verdict(bool met)
{
	return met ? "met" : "NOT MET";
}

/* The timed bench: every stage of every selected capture, best of reps, as a markdown table. */
static void
bench_all(const struct capture_def *only, uint64_t frames, unsigned reps)
{
	double json_std_ns = -1;
	uint64_t allocs = 0;

	printf("CPU time (CLOCK_PROCESS_CPUTIME_ID), best of %u runs; %llu frames per capture, fed "
	       "in %d-byte chunks.\n\n",
	       reps, (unsigned long long) frames, CHUNK);
	for (size_t i = 0; i < N_CAPTURES; i++)
		if (!only || only == &captures[i])
			printf("- %s: %s, %zu bytes and %u groups per frame\n", captures[i].name,
			       captures[i].desc, captures[i].frame_len, frame_groups(&captures[i]));
	printf("\n| capture | stage | MB/s | frames/s | CPU ns/byte | ns/frame | × floor | "
	       "allocs/group | allocs/frame |\n"
	       "|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < N_CAPTURES; i++) {
		struct capture c;
		struct result r[STAGE_COUNT];

		if (only && only != &captures[i])
			continue;
		capture_generate(&captures[i], frames, &c);
		capture_verify(&c);
		measure(&c, reps, r);
		for (int s = STAGE_FLOOR; s < STAGE_COUNT; s++)
			print_row(&c, (enum stage) s, r[s], r[STAGE_FLOOR]);
		for (int s = STAGE_PARSER; s < STAGE_COUNT; s++)
			allocs += r[s].allocs;
		if (strcmp(c.def->name, "std") == 0)
			json_std_ns = (double) r[STAGE_JSON].ns / (double) c.frames;
		free(c.buf);
	}
	printf("\n");
	if (json_std_ns >= 0)
		printf("- target: parser + JSON <= 5 us CPU per standard mono frame: %.2f us, %s\n",
		       json_std_ns / 1e3, verdict(json_std_ns <= JSON_TARGET_NS));
	if (COUNT_ALLOCS)
		printf(
		    "- target: zero heap allocations per frame, parser to publisher: %llu in all, "
		    "%s\n",
		    (unsigned long long) allocs, verdict(allocs == 0));
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: linkyd_bench [--capture hist|std|tri] [--frames N] [--reps N]\n"
	           "       linkyd_bench --stage none|floor|parser|frames|json|publish "
	           "--capture hist|std|tri "
	           "[--frames N]\n");
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"stage", required_argument, NULL, 's'},  {"capture", required_argument, NULL, 'c'},
	    {"frames", required_argument, NULL, 'n'}, {"reps", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	const struct capture_def *only = NULL;
	uint64_t frames = 200000;
	unsigned reps = 5;
	int stage = -1, opt;

	while ((opt = getopt_long(argc, argv, "s:c:n:r:h", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			for (int i = 0; i < STAGE_COUNT; i++)
				if (strcmp(optarg, stage_names[i]) == 0)
					stage = i;
			if (stage < 0)
				die("unknown stage '%s'", optarg);
			break;
		case 'c':
			for (size_t i = 0; i < N_CAPTURES; i++)
				if (strcmp(optarg, captures[i].name) == 0)
					only = &captures[i];
			if (!only)
				die("unknown capture '%s'", optarg);
			break;
		case 'n':
			frames = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			reps = (unsigned) strtoul(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_FAILURE;
		}
	}
	if (optind != argc || frames == 0 || reps == 0 || (stage >= 0 && !only)) {
		usage(stderr);
		return EXIT_FAILURE;
	}
	/* The derived values' periods are local hours, days and months: one zone for every
	 * machine, so that runs compare. (With TZ unset, glibc's mktime() also copies the default
	 * zone's name on each call, an allocation per simulated hour that is not the frame's.) */
	if (setenv("TZ", "Europe/Paris", 1) < 0)
		die("setenv: out of memory");
	tzset();

	if (stage >= 0) {
		struct capture c;
		uint64_t n;

		capture_generate(only, frames, &c);
		capture_verify(&c);
		n = stage_run_alone((enum stage) stage, &c);
		/* One line for bench/run.sh, which divides callgrind's count by bytes. */
		printf("capture=%s stage=%s frames=%llu groups=%llu bytes=%zu result=%llu\n",
		       only->name, stage_names[stage], (unsigned long long) c.frames,
		       (unsigned long long) c.groups, c.len, (unsigned long long) n);
		free(c.buf);
		return EXIT_SUCCESS;
	}
	bench_all(only, frames, reps);
	return EXIT_SUCCESS;
}
