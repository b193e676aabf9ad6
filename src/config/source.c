/* SPDX-License-Identifier: MIT */
/*
 * Reading a configuration file for libconfig, which is never given a file itself: libconfig 1.5
 * reads files through a flex scanner that calls exit() when a read fails (an @include of a
 * directory killed the daemon on reload), blocks on a FIFO, and takes time in the square of a
 * line's length (a 10 MB line: 42 s). Here every file is opened without blocking and read with a
 * bound, checked for what libconfig would silently mangle (NUL bytes, "\x00" in strings), and
 * its @include directives are replaced by the files they name, so that libconfig reads one
 * string: linear, in memory. Each line of that text maps back to its file and line.
 *
 * The scanner follows libconfig 1.5's (scanner.l) as far as @include needs: a directive is
 * "@include" at the start of a line (spaces and tabs before it), outside comments and strings,
 * then spaces and a quoted path where \\ and \" are the only escapes.

 * It also follows the grammar as far as strings need: libconfig 1.5 leaks a string that comes
 * where its parser takes none (where a setting's name is due: '"x"', 'a = { "x" }'), so such a
 * string is a syntax error here, before libconfig sees it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-internal.h"

#define SOURCE_MAX    (256 * 1024) /* bytes read, @include files included */
#define LINE_MAX_SIZE (128 * 1024) /* room for the longest MQTT string, with its key */
#define SETTINGS_MAX  2048         /* libconfig checks each name against its group's: quadratic */
#define INCLUDES_MAX  64
#define INCLUDE_DEPTH 10 /* libconfig's own limit */
#define NESTING_MAX   64 /* groups, lists and arrays within each other: bits of cfg_source.lists */
#define DIRECTIVE     "@include"

enum scan_state {
	SCAN_CODE,
	SCAN_LINE_COMMENT, /* # or // to the end of the line */
	SCAN_COMMENT,      /* inside a comment's slash-star and star-slash */
	SCAN_STRING,
};

struct cfg_span {
	unsigned line;      /* of the text, from which on */
	size_t file;        /* index into files */
	unsigned file_line; /* what the text's line is in that file */
};

/* One file being scanned. */
struct scan {
	struct cfg_source *src;
	size_t file;
	const char *buf;
	size_t len;
	size_t i, from;    /* the next byte to scan, the first not copied to the text yet */
	unsigned line;     /* of the file */
	size_t line_start; /* of the current line in buf */
	unsigned depth;
	struct problem *p;
};

static int read_file(struct cfg_source *src, const char *path, unsigned depth, const char *site,
                     struct problem *p);

static int __attribute__((format(printf, 5, 6)))
fail(struct problem *p, const char *file, unsigned line, const char *setting, const char *fmt, ...)
{
	va_list ap;

	if (line)
		(void) snprintf(p->where, sizeof(p->where), "%s:%u", file, line);
	else
		(void) snprintf(p->where, sizeof(p->where), "%s", file);
	(void) snprintf(p->path, sizeof(p->path), "%s", setting);
	va_start(ap, fmt);
	(void) vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int
emit(struct cfg_source *src, const char *s, size_t n)
{
	if (src->len + n + 1 > src->size) {
		size_t size = 2 * (src->len + n + 1);
		char *text = realloc(src->text, size);

		if (!text)
			return -ENOMEM;
		src->text = text;
		src->size = size;
	}
	memcpy(src->text + src->len, s, n);
	src->len += n;
	src->text[src->len] = '\0';
	for (size_t i = 0; i < n; i++)
		src->line += s[i] == '\n';
	return 0;
}

/* From the text's current line on, lines are file's from file_line on. */
static int
span_add(struct cfg_source *src, size_t file, unsigned file_line)
{
	struct cfg_span *last = src->n_spans ? &src->spans[src->n_spans - 1] : NULL;

	if (!last || last->line != src->line) {
		if (src->n_spans == src->spans_size) {
			size_t size = src->spans_size ? 2 * src->spans_size : 16;
			struct cfg_span *spans = realloc(src->spans, size * sizeof(*spans));

			if (!spans)
				return -ENOMEM;
			src->spans = spans;
			src->spans_size = size;
		}
		last = &src->spans[src->n_spans++];
	}
	*last = (struct cfg_span){.line = src->line, .file = file, .file_line = file_line};
	return 0;
}

const char *
cfg_source_where(const struct cfg_source *src, unsigned line, char *buf, size_t size)
{
	const struct cfg_span *s = NULL;

	for (size_t k = 0; k < src->n_spans && src->spans[k].line <= line; k++)
		s = &src->spans[k];
	if (!s)
		(void) snprintf(buf, size, "%s", src->n_files ? src->files[0] : "?");
	else
		(void) snprintf(buf, size, "%s:%u", src->files[s->file],
		                s->file_line + (line - s->line));
	return buf;
}

/* Copy what was scanned since the last copy into the text. */
static int
flush(struct scan *s)
{
	int r = emit(s->src, s->buf + s->from, s->i - s->from);

	s->from = s->i;
	return r;
}

/* Whether the next byte starts a line of the text libconfig reads ('^' in scanner.l). */
static bool
at_line_start(const struct scan *s)
{
	if (s->i > s->from)
		return s->buf[s->i - 1] == '\n';
	return s->src->len == 0 || s->src->text[s->src->len - 1] == '\n';
}

/* The length of "[ \t]*@include[ \t]+\"" at s->i, or 0. */
static size_t
directive_at(const struct scan *s)
{
	const char *p = s->buf + s->i, *end = s->buf + s->len;
	size_t n = strlen(DIRECTIVE), blanks;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if ((size_t) (end - p) < n || memcmp(p, DIRECTIVE, n) != 0)
		return 0;
	p += n;
	blanks = 0;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++, blanks++;
	if (blanks == 0 || p == end || *p != '"')
		return 0;
	return (size_t) (p + 1 - (s->buf + s->i));
}

/* Put the file that the directive at s->i names in its place. */
static int
include(struct scan *s, size_t skip)
{
	const char *file = s->src->files[s->file];
	char path[4096], site[CONFIG_ERROR_SIZE / 2];
	size_t n = 0;
	int r;

	r = flush(s);
	if (r < 0)
		return r;
	for (s->i += skip; s->i < s->len && s->buf[s->i] != '"'; s->i++) {
		char c = s->buf[s->i];

		if (c == '\\' && s->i + 1 < s->len && strchr("\\\"", s->buf[s->i + 1]))
			c = s->buf[++s->i];
		else if (c == '\\' || c == '\n' || c == '\0')
			break;
		if (n + 1 >= sizeof(path))
			return fail(s->p, file, s->line, DIRECTIVE,
			            "expected a path of at most %zu bytes", sizeof(path) - 1);
		path[n++] = c;
	}
	if (s->i >= s->len || s->buf[s->i] != '"' || n == 0)
		return fail(
		    s->p, file, s->line, DIRECTIVE,
		    "expected \"PATH\" on one line (with \\\\ and \\\" as its only escapes)");
	path[n] = '\0';
	s->i++;
	s->from = s->i;
	if (s->depth + 1 > INCLUDE_DEPTH)
		return fail(s->p, file, s->line, DIRECTIVE,
		            "'%s': expected at most %d nested files", path, INCLUDE_DEPTH);
	if (++s->src->includes > INCLUDES_MAX)
		return fail(s->p, file, s->line, DIRECTIVE, "expected at most %d of them",
		            INCLUDES_MAX);
	(void) snprintf(site, sizeof(site), "%s:%u", file, s->line);
	r = read_file(s->src, path, s->depth + 1, site, s->p);
	/* The rest of the directive's line on a line of its own, from this file. */
	if (r == 0 && s->src->len && s->src->text[s->src->len - 1] != '\n')
		r = emit(s->src, "\n", 1);
	if (r == 0)
		r = span_add(s->src, s->file, s->line);
	return r;
}

/* Whether libconfig's parser takes a string after src->last: a value after '=' or ':', the
 * next one of a list or an array, or more of a string ("a" "b" is "ab"). The rest of what
 * comes before is well-formed here, or libconfig stops there, before the string. */
static bool
string_taken(const struct cfg_source *src)
{
	switch (src->last) {
	case '=':
	case ':':
	case '"':
	case '(':
	case '[':
		return true;
	case ',':
		return src->nesting > 0 && (src->lists >> (src->nesting - 1) & 1);
	default:
		return false;
	}
}

/* Code byte c that is not a blank, and not a string's opening quote. */
static int
code_byte(struct scan *s, char c)
{
	struct cfg_source *src = s->src;

	if (c == '{' || c == '(' || c == '[') {
		if (src->nesting == NESTING_MAX)
			return fail(
			    s->p, src->files[s->file], s->line, "",
			    "expected at most %d groups, lists and arrays within each other",
			    NESTING_MAX);
		src->lists &= ~(UINT64_C(1) << src->nesting);
		if (c != '{')
			src->lists |= UINT64_C(1) << src->nesting;
		src->nesting++;
	} else if ((c == '}' || c == ')' || c == ']') && src->nesting > 0) {
		src->nesting--;
	}
	src->last = c;
	return 0;
}

static void
string_opens(struct scan *s)
{
	s->src->state = SCAN_STRING;
	s->src->string_file = s->file;
	s->src->string_line = s->line;
}

/* One byte (or escape) of code, comment or string at s->i. */
static int
scan_byte(struct scan *s)
{
	const char *b = s->buf + s->i;
	size_t left = s->len - s->i, n;
	const char *file = s->src->files[s->file];

	switch (s->src->state) {
	case SCAN_CODE:
		if (at_line_start(s) && (n = directive_at(s)) > 0)
			return include(s, n);
		if (left >= 2 && b[0] == '/' && (b[1] == '*' || b[1] == '/')) {
			s->src->state = b[1] == '*' ? SCAN_COMMENT : SCAN_LINE_COMMENT;
			s->i += 2;
			return 0;
		}
		if (b[0] == '#') {
			s->src->state = SCAN_LINE_COMMENT;
		} else if (b[0] == '"') {
			if (!string_taken(s->src))
				return fail(s->p, file, s->line, "",
				            "syntax error: a string where none may be");
			string_opens(s);
		} else if ((b[0] == '=' || b[0] == ':') && ++s->src->settings > SETTINGS_MAX) {
			return fail(s->p, file, s->line, "", "expected at most %d settings",
			            SETTINGS_MAX);
		} else if (!strchr(" \t\r\n\f\v", b[0])) {
			int r = code_byte(s, b[0]);

			if (r < 0)
				return r;
		}
		break;
	case SCAN_LINE_COMMENT:
		if (b[0] == '\n')
			s->src->state = SCAN_CODE;
		break;
	case SCAN_COMMENT:
		if (left >= 2 && b[0] == '*' && b[1] == '/') {
			s->src->state = SCAN_CODE;
			s->i += 2;
			return 0;
		}
		break;
	case SCAN_STRING:
		/* libconfig appends "\x00" as an empty string: "t\x00u" would become "tu". */
		if (left >= 4 && b[0] == '\\' && (b[1] == 'x' || b[1] == 'X') && b[2] == '0' &&
		    b[3] == '0')
			return fail(s->p, file, s->line, "",
			            "\"\\x00\" in a string: expected no NUL");
		if (left >= 2 && b[0] == '\\' && (b[1] == '\\' || b[1] == '"')) {
			s->i += 2;
			return 0;
		}
		if (b[0] == '"') {
			s->src->state = SCAN_CODE;
			s->src->last = '"';
		}
		break;
	}
	s->i++;
	return 0;
}

static int
scan(struct cfg_source *src, size_t file, const char *buf, size_t len, unsigned depth,
     struct problem *p)
{
	struct scan s = {
	    .src = src, .file = file, .buf = buf, .len = len, .line = 1, .depth = depth, .p = p};
	const char *name = src->files[file];
	int r = span_add(src, file, 1);

	while (r == 0 && s.i < len) {
		size_t at = s.i;

		/* libconfig stops at a NUL: "a<NUL>b" would become "a". */
		if (buf[at] == '\0')
			return fail(p, name, s.line, "", "NUL byte: expected text");
		if (at - s.line_start >= LINE_MAX_SIZE)
			return fail(p, name, s.line, "", "line longer than %d bytes",
			            LINE_MAX_SIZE);
		r = scan_byte(&s);
		/* Count the lines scanned, wherever they were (a string, a comment). */
		for (size_t k = at; k < s.i && k < len; k++)
			if (buf[k] == '\n') {
				s.line++;
				s.line_start = k + 1;
			}
	}
	return r < 0 ? r : flush(&s);
}

static int
read_file(struct cfg_source *src, const char *path, unsigned depth, const char *site,
          struct problem *p)
{
	size_t budget = SOURCE_MAX - src->read, len = 0;
	char **files, *buf = NULL;
	struct stat st;
	int fd, r;

	/* Without blocking: a FIFO with no writer, or a terminal, would hold the loop. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		r = fd < 0 || !S_ISDIR(st.st_mode) ? -errno : -EISDIR;
		if (fd >= 0)
			(void) close(fd);
		if (site)
			return fail(p, site, 0, DIRECTIVE, "'%s': %s", path, strerror(-r));
		(void) fail(p, path, 0, "", "%s", strerror(-r));
		return r == -ENOENT ? r : -EINVAL;
	}
	files = realloc(src->files, (src->n_files + 1) * sizeof(*files));
	if (files)
		src->files = files;
	if (!files || !(src->files[src->n_files] = strdup(path))) {
		r = -ENOMEM;
		goto out_close;
	}
	src->n_files++;
	buf = malloc(budget + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out_close;
	}
	while (len <= budget) {
		ssize_t n = read(fd, buf + len, budget + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = fail(p, path, 0, "", "%s",
			         errno == EAGAIN ? "no data: expected a file" : strerror(errno));
			goto out_free;
		}
		if (n == 0)
			break;
		len += (size_t) n;
	}
	if (len > budget) {
		/* Blame the line where the bound was crossed. */
		unsigned line = 1;

		for (size_t i = 0; i < budget; i++)
			line += buf[i] == '\n';
		r = fail(p, path, line, "",
		         "expected at most %d bytes, its @include files included", SOURCE_MAX);
		goto out_free;
	}
	src->read += len;
	r = scan(src, src->n_files - 1, buf, len, depth, p);

out_free:
	free(buf);
out_close:
	(void) close(fd);
	return r;
}

int
cfg_source_read(struct cfg_source *src, const char *path, struct problem *p)
{
	int r;

	*src = (struct cfg_source){.line = 1};
	r = read_file(src, path, 0, NULL, p);
	/* libconfig would say "syntax error" at the end, and leak the string. */
	if (r == 0 && src->state == SCAN_STRING)
		r = fail(p, src->files[src->string_file], src->string_line, "",
		         "expected the closing quote of this string");
	return r;
}

void
cfg_source_done(struct cfg_source *src)
{
	for (size_t i = 0; i < src->n_files; i++)
		free(src->files[i]);
	free(src->files);
	free(src->spans);
	free(src->text);
	*src = (struct cfg_source){0};
}
