/* SPDX-License-Identifier: MIT */
/*
 * Anonymisation: the meter's identifiers (ADCO, ADSC, PRM: every label of format TIC_FMT_ID)
 * replaced by keyed pseudonyms in what is published and logged. A pseudonym has the id's length
 * and is digits only, so it passes the label's format check and still looks like an id; it is
 * the same for the same key and id (Home Assistant's unique_ids, which embed the serial, stay
 * stable across restarts), and without the key it says nothing of the id.
 *
 * Digit i of a pseudonym is digit i of the id shifted by a keyed hash (SipHash-2-4) of the
 * digits before it. Each digit then depends only on what came before, so the raw bytes of the
 * -vv log can be rewritten as they are read, however a group is split between reads, and come
 * out exactly as the published pseudonym. The price: two ids that share a prefix share the
 * pseudonym's prefix, which tells nothing about a single meter's id.
 *
 * No heap, no clock. Only the key derivation from a machine-id file does I/O.
 */
#ifndef LINKYD_ANON_H
#define LINKYD_ANON_H

#include <stddef.h>
#include <stdint.h>

#include "linkyd/tic.h"

/* A 128-bit SipHash key, as the two little-endian halves of its 16 bytes. */
struct anon_key {
	uint64_t k[2];
};

/* SipHash-2-4 of len bytes (Aumasson and Bernstein, 2012). */
uint64_t anon_siphash(const struct anon_key *key, const void *data, size_t len);

/* Derive the key from a configured secret (a non-empty string). Returns 0 or -EINVAL. */
int anon_key_from_secret(const char *secret, struct anon_key *ret_key);

/* Derive the key from a machine-id file (/etc/machine-id: 32 hexadecimal digits and a newline,
 * readable by any user, including systemd's DynamicUser). The id itself is never the key, as
 * machine-id(5) asks: a hash of it is. Returns 0, -errno if the file cannot be read, or -EINVAL
 * if it holds no machine id (an empty file, "uninitialized" on a first boot). */
int anon_key_from_machine_id(const char *path, struct anon_key *ret_key);

/* The key linkyd uses: from secret when there is one, else from /etc/machine-id. Returns as
 * the two above. */
#define ANON_MACHINE_ID "/etc/machine-id"
int anon_key_load(const char *secret, struct anon_key *ret_key);

/* The pseudonym of id (len bytes, at most TIC_VALUE_MAX) into out (len + 1 bytes, NUL-terminated).
 * Digits are replaced, any other byte is kept (a valid id has none). */
void anon_pseudonym(const struct anon_key *key, const char *id, size_t len, char *out);

/* ---- Frames ---------------------------------------------------------------------------------- */

/* A frame with its identifiers replaced, in caller storage (about 13 KiB). */
struct anon_frame {
	struct tic_frame frame;
	struct tic_group groups[TIC_FRAME_GROUPS];
	char values[TIC_FRAME_BYTES]; /* the pseudonyms */
};

/* Copy in into out with the value of every TIC_FMT_ID group replaced by its pseudonym; the
 * other groups point at in's strings, so out->frame is valid as long as in is. Returns 0, or
 * -ENOBUFS for a frame larger than the parser ever delivers: then publish nothing, since out
 * holds no anonymised frame. */
int anon_frame(const struct anon_key *key, const struct tic_frame *in, struct anon_frame *out);

/* ---- Raw bytes (the -vv log) ----------------------------------------------------------------- */

/* Where a stream of raw bytes stands: carried from one read to the next, one per line. */
struct anon_stream {
	uint8_t state;
	uint8_t label_len;
	uint8_t value_len;
	uint8_t sum_delta;         /* what the pseudonym adds to the group's checksum, modulo 64 */
	uint8_t seps, seps_needed; /* separators seen and expected in a known group */
	char sep;                  /* its separator: SP or HT */
	char label[TIC_LABEL_MAX];
	char value[TIC_VALUE_MAX]; /* the id's original bytes so far */
};

/* Start a stream outside any group. */
void anon_stream_init(struct anon_stream *s);

/* Copy len bytes of a raw TIC stream from in to out (in == out is allowed), with the value of
 * every identifier group replaced by its pseudonym and its check character recomputed by the
 * same difference, so that a valid group stays valid, a corrupt one stays corrupt, and the
 * output decodes to what anon_frame() gives. Groups of known labels are copied as they are.
 * Where an identifier could pass unrecognised, the digits become '0': from the start of the
 * stream (it may begin inside a group) and between groups (a lost LF) up to the next LF, in a
 * group whose label is unknown or corrupt, after a known group's check character (its CR and
 * the next LF lost), and in a label from its third digit in a row. */
void anon_stream(const struct anon_key *key, struct anon_stream *s, const unsigned char *in,
                 size_t len, unsigned char *out);

#endif
