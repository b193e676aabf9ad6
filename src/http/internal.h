/* SPDX-License-Identifier: MIT */
/*
 * The inside of the HTTP site: a growing response buffer, the one place that reads values out
 * of a frame's groups, and the pages (ecodevice.c, metrics.c, status.c). Private to src/http/.
 */
#ifndef LINKYD_HTTP_INTERNAL_H
#define LINKYD_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "linkyd/http.h"

/* ---- buf.c: a response body, at most HTTP_BODY_MAX bytes ------------------------------------ */

/* Once a write fails (out of memory, over the limit) nothing more is written and failed says
 * so: the pages write on, and the site answers 500. */
struct http_buf {
	char *data;
	size_t len, size;
	bool failed;
};

void buf_put(struct http_buf *b, const char *s, size_t n);
void buf_puts(struct http_buf *b, const char *s);
/* Room for n bytes at b->data + b->len, to write there and then add to b->len; NULL when it
 * cannot be had. */
char *buf_room(struct http_buf *b, size_t n);
void __attribute__((format(printf, 2, 3))) buf_printf(struct http_buf *b, const char *fmt, ...);
/* s as XML character data or attribute value: markup escaped, and every byte that is not
 * printable ASCII dropped (the consumers decode as UTF-8 or by the declared charset, and a TIC
 * value is ASCII anyway). */
void buf_xml(struct http_buf *b, const char *s);
/* s (UTF-8: meter names, sources) as a JSON string, quotes included. */
void buf_json(struct http_buf *b, const char *s);
/* s as a Prometheus label value: \, " and newline escaped. */
void buf_label(struct http_buf *b, const char *s);
void buf_free(struct http_buf *b);

/* ---- values.c: what the pages read of a frame ---------------------------------------------- */

/* The group of label in f, NULL when f has none. */
const struct tic_group *frame_find(const struct tic_frame *f, const char *label);
/* A group's value as a number (a label of digits); false when it is not one. */
bool group_number(const struct tic_group *g, uint64_t *ret);
/* The same for label in f; false when f has no such group. */
bool frame_number(const struct tic_frame *f, const char *label, uint64_t *ret);
/* The value of label in f, its padding trimmed, into buf (size bytes); NULL when absent. */
const char *frame_text(const struct tic_frame *f, const char *label, char *buf, size_t size);
/* STGE decoded; false when f has none. */
bool frame_stge(const struct tic_frame *f, struct tic_stge *ret);

/* ---- ecodevice.c: the Eco-Devices API ------------------------------------------------------- */

/* The fields of teleinfoN.xml, in the real device's order. */
enum eco_field {
	ECO_ADCO,
	ECO_OPTARIF,
	ECO_ISOUSC,
	ECO_BASE,
	ECO_HCHC,
	ECO_HCHP,
	ECO_EJPHN,
	ECO_EJPHPM,
	ECO_BBRHCJB,
	ECO_BBRHPJB,
	ECO_BBRHCJW,
	ECO_BBRHPJW,
	ECO_BBRHCJR,
	ECO_BBRHPJR,
	ECO_PEJP,
	ECO_PTEC,
	ECO_DEMAIN,
	ECO_IINST,
	ECO_IINST1,
	ECO_IINST2,
	ECO_IINST3,
	ECO_ADPS,
	ECO_IMAX,
	ECO_IMAX1,
	ECO_IMAX2,
	ECO_IMAX3,
	ECO_PPAP,
	ECO_PAPP,
	ECO_HHPHC,
	ECO_MOTDETAT,
	ECO_PPOT,
	ECO_FIELDS
};

#define ECO_VALUE_MAX (TIC_VALUE_MAX + 1) /* a TIC value whole, never cut */

struct eco_input {
	char v[ECO_FIELDS][ECO_VALUE_MAX];
};

extern const char *const eco_names[ECO_FIELDS];

/* Input n (1 or 2) as the real device serves it: from m's last complete frame, a standard
 * meter's projected onto the historique fields with optarif (HTTP_OPTARIF_AUTO: guessed from
 * NGTF); the device's empty input when m is NULL or has no frame yet. */
void eco_project(const struct state_meter *m, enum http_optarif optarif, struct eco_input *ret);

/* The meter served as input n (1 or 2), NULL for none; its configuration in *ret_cfg. */
const struct state_meter *eco_meter(const struct http_site *site, int n,
                                    const struct meter_config **ret_cfg);

void eco_status_xml(const struct http_site *site, struct http_buf *b);
void eco_teleinfo_xml(const struct http_site *site, int n, struct http_buf *b);

/* ---- metrics.c, status.c ------------------------------------------------------------------- */

void metrics_text(const struct http_site *site, uint64_t now_ms, struct http_buf *b);
void status_json(const struct http_site *site, uint64_t now_ms, struct http_buf *b);

#endif
