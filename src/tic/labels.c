/* SPDX-License-Identifier: MIT */
/*
 * The label table of both TIC modes (docs/tic.md §5 and §7, rows in linkyd/tic_labels.h), with
 * the formats the parser checks and the hints Home Assistant needs, and a constant-time lookup by
 * name.
 */
#include <string.h>

#include "linkyd/tic.h"
#include "tic-internal.h"

#define H TIC_MODE_HISTORIQUE
#define S TIC_MODE_STANDARD

/* The row shorthands of linkyd/tic_labels.h: a measurement with its Home Assistant class, another
 * format, a whole row. */
#define ROW(n, d, u, cls, st, hu, scale, max, min, md, f, w, fl)                                   \
	{                                                                                          \
		n, d, u, cls, st, hu, scale, max, min, md, f, w, fl, sizeof(n) - 1                 \
	}
#define ENERGY(n, d, md, fl)                                                                       \
	ROW(n, d, "Wh", "energy", "total_increasing", "Wh", 1, 0, 0, md, TIC_FMT_DIGITS, 9, fl)
#define NUM(n, d, u, cls, st, hu, md, w, fl)                                                       \
	ROW(n, d, u, cls, st, hu, 1, 0, 0, md, TIC_FMT_DIGITS, w, fl)
#define FMT(n, d, md, f, w, fl) ROW(n, d, NULL, NULL, NULL, NULL, 1, 0, 0, md, f, w, fl)

#define DIAG TIC_LF_DIAGNOSTIC
#define HORO TIC_LF_HORODATE
#define TRI  TIC_LF_TRI
#define PROD TIC_LF_PROD

const struct tic_label tic_labels[] = {
#define TIC_LABEL(id, kind, ...) kind(__VA_ARGS__),
#include "linkyd/tic_labels.h"
#undef TIC_LABEL
};

const size_t tic_labels_count = sizeof(tic_labels) / sizeof(tic_labels[0]);

_Static_assert(sizeof(tic_labels) / sizeof(tic_labels[0]) <= TIC_LABELS_MAX,
               "the parser's duplicate bitmap holds TIC_LABELS_MAX labels");
_Static_assert(sizeof(tic_labels) / sizeof(tic_labels[0]) == TIC_L_COUNT - 1,
               "one identity per row (both come from linkyd/tic_labels.h)");
_Static_assert(TIC_L_COUNT <= UINT8_MAX + 1, "struct tic_group holds an identity in a byte");

struct tic_label_slot tic_label_index[TIC_INDEX_SIZE];

/* The index, built once before main() runs. */
__attribute__((constructor)) static void
label_index_build(void)
{
	for (size_t i = 0; i < tic_labels_count; i++) {
		struct tic_label_key k =
		    tic_label_key_of(tic_labels[i].name, strlen(tic_labels[i].name));
		uint32_t h = tic_label_hash(k.w[0], k.w[1]);

		while (tic_label_index[h].key.len != 0)
			h = (h + 1) % TIC_INDEX_SIZE;
		tic_label_index[h] = (struct tic_label_slot){
		    k, (uint8_t) i,
		    tic_label_shape(tic_labels[i].mode, tic_labels[i].flags & TIC_LF_HORODATE)};
	}
}

const struct tic_label *
tic_label_find(const char *name, size_t len)
{
	struct tic_label_key k;
	const struct tic_label_slot *slot;

	if (len > TIC_LABEL_MAX || len == 0)
		return NULL;
	k = tic_label_key_of(name, len);
	slot = tic_label_lookup(k.w[0], k.w[1], k.len);
	return slot ? &tic_labels[slot->label] : NULL;
}
