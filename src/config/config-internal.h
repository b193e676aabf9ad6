/* SPDX-License-Identifier: MIT */
/*
 * The inside of the configuration module: the settings table's types (the rows themselves are
 * in settings.c), the walkers that the table drives (table.c), the snapshot, and how problems
 * are blamed on a setting. Private to src/config/: other modules see linkyd/config.h.
 */
#ifndef LINKYD_CONFIG_INTERNAL_H
#define LINKYD_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "linkyd/config.h"

#define PATH_SIZE 128 /* a setting's path: "meters[0].publish.labels[12].heartbeat" */

/* ---- the settings table ------------------------------------------------------------------- */

enum cfg_type {
	CFG_BOOL,   /* bool */
	CFG_INT,    /* an integer of .size bytes (int, unsigned, uint64_t) within min..max */
	CFG_ENUM,   /* an int-sized enum: the index of its name in .names */
	CFG_STRING, /* char *: NULL (unset) or at most .max bytes */
	CFG_SECRET, /* a CFG_STRING masked when printed and wiped when freed */
	CFG_STRV,   /* char ** and its size_t count (at .count): at most .max strings */
	CFG_INPUT,  /* struct input_config, parsed by the kinds of input.c */
	CFG_GROUP,  /* a group { }: .sub's rows, at .offset */
	CFG_MERGE,  /* .sub's rows at .offset, set in this row's own group (no key) */
	CFG_LIST,   /* ( { }, ... ): an array of .size-byte .sub structs, its count at .count */
};

/* What a reload that changes a setting restarts. */
enum cfg_reload {
	RELOAD_NONE,  /* nothing: applied as the new snapshot replaces the old (log.level) */
	RELOAD_METER, /* the meters whose value changed */
	RELOAD_ALL,   /* every meter */
};

enum {
	CFG_REQUIRED = 1 << 0,   /* a string or input that may not stay unset */
	CFG_UTF8 = 1 << 1,       /* strings that MQTT or JSON carry: valid UTF-8 */
	CFG_LATE = 1 << 2,       /* read after the rest of its group, whatever the file's order */
	CFG_APPEND = 1 << 3,     /* a list the file adds to, after what it inherited */
	CFG_COMPUTED = 1 << 4,   /* worked out, never read: printed as a comment */
	CFG_INHERITS = 1 << 5,   /* a group that starts as its list element's init() makes it: only
	                          * what differs is printed */
	CFG_HIDE_UNSET = 1 << 6, /* a string printed only when set: the settings of one kind of
	                          * input, which would clutter every other meter */
};

struct cfg_table;
struct problem;

struct cfg_row {
	const char *key;
	enum cfg_type type;
	size_t offset;       /* of the value in the table's struct */
	size_t size;         /* of the value (CFG_INT, CFG_ENUM), of an element (CFG_LIST) */
	size_t count;        /* CFG_STRV, CFG_LIST: offset of the size_t count */
	long long min;       /* CFG_INT: least value; CFG_LIST: least entries */
	long long max;       /* CFG_INT: most; CFG_STRING: bytes; CFG_STRV, CFG_LIST: entries */
	long long def;       /* CFG_BOOL, CFG_INT, CFG_ENUM: the default; CFG_LIST: entries */
	const char *def_str; /* CFG_STRING: the default, or NULL */
	const char *const *names;     /* CFG_ENUM: by value, NULL-terminated */
	const struct cfg_table *sub;  /* CFG_GROUP, CFG_MERGE, CFG_LIST */
	bool (*valid)(const char *s); /* CFG_STRING: what else a value must be */
	const char *expect;           /* "expected ..." when a value is wrong */
	const char *unset;            /* CFG_STRING: what happens when unset (printed) */
	unsigned flags;               /* CFG_REQUIRED... */
	enum cfg_reload reload;
};

/* The rows of one struct; for list elements, their defaults that depend on more than a row. */
struct cfg_table {
	const struct cfg_row *rows;
	size_t n_rows;
	const char *expect; /* as an element: "a group { ... }" */
	/* After the rows' defaults: what an element takes from parent, the list's struct.
	 * Returns 0 or -ENOMEM. */
	int (*init)(void *elem, const void *parent);
	/* After reading element i of n: defaults that depend on i, n or the element's other
	 * settings. path is the element's ("meters[1]"). Returns 0, -ENOMEM or -EINVAL (*p). */
	int (*finish)(void *elem, size_t i, size_t n, const char *path, struct problem *p);
};

extern const struct cfg_table cfg_root; /* struct linkyd_config, in settings.c */

#define CFG_AT(base, offset) ((void *) ((char *) (base) + (offset)))

/* ---- walking the table (table.c) ----------------------------------------------------------- */

/* Each row's default into base (zeroed by the caller). Returns 0 or -ENOMEM. */
int cfg_defaults(const struct cfg_table *t, void *base);

/* n elements of list row (in parent) with their defaults and init(), not yet finished. Returns
 * the array, or NULL when out of memory. */
void *cfg_list_new(const struct cfg_row *row, const void *parent, size_t n);

/* Replace list row's elements in base with its default ones (finished). Returns 0 or -ENOMEM. */
int cfg_list_default(const struct cfg_row *row, void *base);

/* Free what base owns (zeroing it), and the whole of one value or a list's n elements. */
void cfg_free(const struct cfg_table *t, void *base);
void cfg_free_value(const struct cfg_row *row, void *base);
void cfg_free_list(const struct cfg_row *row, void *elems, size_t n);

/* Deep copy. Returns 0, or -ENOMEM with dst owning nothing. */
int cfg_copy(const struct cfg_table *t, void *dst, const void *src);

/* Whether the rows whose reload is at least at_least have equal values (recursively). */
bool cfg_equal(const struct cfg_table *t, const void *a, const void *b, enum cfg_reload at_least);
bool cfg_value_equal(const struct cfg_row *row, const void *a, const void *b);

/* The row of key in t, looking into merged tables; *ret_offset gets its offset from t's base.
 * Computed rows are not found: they are not settings. */
const struct cfg_row *cfg_find(const struct cfg_table *t, const char *key, size_t *ret_offset);

/* The row of a dotted path of groups ("publish.format"), and in *ret_base the base of the
 * struct that row->offset is relative to. NULL when there is none. */
const struct cfg_row *cfg_lookup(const struct cfg_table *t, void *base, const char *path,
                                 void **ret_base);

/* Integers and enums of any of the sizes rows use. */
long long cfg_int_get(const void *p, size_t size);
void cfg_int_set(void *p, size_t size, long long v);

/* Check a string against its row: length, UTF-8, valid(). Returns 0 or -EINVAL (*p on path). */
int cfg_check_string(const struct cfg_row *row, const char *s, const char *path, struct problem *p);

/* Every value of t in base against its row (ranges, lengths, UTF-8, required...); path is
 * base's own ("" for the root). Returns 0 or -EINVAL with *p. */
int cfg_check_values(const struct cfg_table *t, const void *base, const char *path,
                     struct problem *p);

/* Set an enum row from its name. Returns 0 or -EINVAL. */
int cfg_enum_parse(const struct cfg_row *row, void *base, const char *name);

/* ---- problems ------------------------------------------------------------------------------ */

/* What is wrong: the setting to blame (path) and why (msg, "expected ..."). where is filled when
 * the problem is found with its place ("FILE:LINE" of a syntax error), or else from the path. */
struct problem {
	char where[CONFIG_ERROR_SIZE / 2];
	char path[PATH_SIZE];
	char msg[CONFIG_ERROR_SIZE];
};

/* Blame setting path for msg (printf). Returns -EINVAL, for "return cfg_blame(...)". */
int __attribute__((format(printf, 3, 4)))
cfg_blame(struct problem *p, const char *path, const char *fmt, ...);

/* Append "key" or "[i]" to path, which has size bytes. */
void cfg_path_push(char *path, size_t size, const char *key);
void cfg_path_index(char *path, size_t size, size_t i);

/* ---- strings ------------------------------------------------------------------------------ */

/* Whether s is valid UTF-8 (no overlong form, surrogate or code point over U+10FFFF); when not,
 * *ret_at gets the offset of the first bad byte. */
bool cfg_utf8_valid(const char *s, size_t *ret_at);

/* A topic linkyd publishes on: no wildcards (they are for subscribers). */
bool cfg_topic_valid(const char *t);

/* mqtt://host[:port] or mqtts://host[:port]; *ret_tls (if not NULL) says which. */
bool cfg_url_valid(const char *url, bool *ret_tls);

/* A meter's default topic: base alone for one meter, "<base>/<name>" for several. NULL when out
 * of memory. */
char *cfg_default_topic(const char *base, const char *name, size_t n_meters);

/* Wipe a secret (a password) before freeing it. */
void cfg_free_secret(char *s);

/* ---- inputs (input.c) --------------------------------------------------------------------- */

/* Parse an input spec into *ret (which must own nothing). Returns 0, -ENOMEM, or -EINVAL for a
 * spec of no known kind. */
int input_parse(const char *spec, struct input_config *ret);

/* "serial:DEVICE or a device path such as /dev/ttyUSB0": every kind's form, into buf. */
const char *input_expect(char *buf, size_t size);

/* Whether a and b read the same source. */
bool input_same(const struct input_config *a, const struct input_config *b);

/* Whether several meters may name this input (a D2L listener): then their other settings tell
 * them apart. */
bool input_shared(const struct input_config *in);

/* The default silence (seconds) of a meter of this input. */
int input_default_silence(const struct input_config *in);

/* What identifies the source (a serial device's path): for the default client id. */
const char *input_key(const struct input_config *in);

/* The kind's own checks of meter m (meters[i] at path). Returns 0 or -EINVAL with *p. */
int input_check(const struct meter_config *m, const char *path, struct problem *p);

int input_copy(struct input_config *dst, const struct input_config *src);
void input_free(struct input_config *in);

/* ---- the snapshot (config.c) -------------------------------------------------------------- */

/* Where a setting came from. */
struct origin {
	char *path;  /* "mqtt.qos" */
	char *where; /* "FILE:LINE", or "--topic" */
};

struct snapshot {
	struct linkyd_config c; /* what config_load() hands out, inside its snapshot */
	unsigned refs;
	struct origin *origins;
	size_t n_origins, origins_size;
};

/* Record that path was set at where. Returns 0 or -ENOMEM. */
int cfg_origin_add(struct snapshot *s, const char *path, const char *where);

/* ---- reading the file (source.c, read.c) -------------------------------------------------- */

/* The text of a configuration file with its @include files put in their place, read with bounds,
 * and where each of its lines came from. libconfig reads that text and never opens a file. */
struct cfg_source {
	char *text; /* NUL-terminated */
	size_t len, size;
	size_t read;   /* bytes read from the files */
	unsigned line; /* lines of text so far, the current one included */
	char **files;  /* the paths read, as given */
	size_t n_files;
	struct cfg_span *spans; /* from which text line on, which file's which line */
	size_t n_spans, spans_size;
	unsigned settings; /* '=' and ':' outside strings and comments */
	unsigned includes;
	int state;          /* the scanner's: in a comment, a string, or neither */
	char last;          /* the last byte of code that is not a blank, '"' for a string */
	unsigned nesting;   /* groups, lists and arrays open */
	uint64_t lists;     /* bit n: the nth open (0: outermost) is a list or an array: values */
	size_t string_file; /* where the last string opened */
	unsigned string_line;
};

/* Read path and what it includes. Returns 0; -ENOENT when path itself does not exist; -EINVAL
 * (*p: located, or at path) or -ENOMEM. */
int cfg_source_read(struct cfg_source *src, const char *path, struct problem *p);

/* "FILE:LINE" of the text's line into buf. */
const char *cfg_source_where(const struct cfg_source *src, unsigned line, char *buf, size_t size);

void cfg_source_done(struct cfg_source *src);

/* Read src's text into s's configuration over what is there. Returns 0, -EINVAL (*p) or
 * -ENOMEM. (read.c: the only includer of <libconfig.h>.) */
int cfg_read(struct snapshot *s, const struct cfg_source *src, struct problem *p);

/* ---- the whole-configuration checks (check.c) --------------------------------------------- */

/* What no single row can check: meters apart from each other (names, inputs, topics, client
 * ids), settings that need others. Returns 0 or -EINVAL with *p. */
int cfg_check(const struct linkyd_config *c, struct problem *p);

#endif
