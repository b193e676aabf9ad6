/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for what linkyd does with an HTTP request (src/http/): the method, the path
 * and the Authorization header in; routing, Basic credentials parsing and every page out
 * (the Eco-Devices XML, /metrics, /status.json), rendered from a state store that holds real
 * frames: a three-phase historique meter whose last frame is a short ADIR one, and a standard
 * Tempo meter. libmicrohttpd parses the bytes of the request before this; what it hands over
 * is what the input gives here.
 *
 * Input: one byte of switches (bit 0: authentication configured; bit 1: the meters have
 * frames), then "METHOD\nPATH\nAUTHORIZATION" (no third line: no header), each line copied to
 * the heap on its own so that ASan sees any read past its end.
 *
 * Invariants (abort() when broken): the status is 200, 401, 404 or 405, never 500; the body is
 * its length's worth of bytes without NUL; without authentication configured nothing is 401;
 * with it, no header means 401 with a challenge; a method other than GET and HEAD is 405 with
 * Allow; XML and metrics bodies are printable ASCII lines; /status.json parses with cJSON.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "linkyd/http.h"
#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char conf_text[] =
    "meters = ( { name = \"hist\"; input = \"/dev/fuzz-hist\"; },\n"
    "           { name = \"std \\\"x\\\"\"; input = \"/dev/fuzz-std\"; } );\n"
    "http = { listen = \"127.0.0.1:8080\"; %s };\n";

/* [auth][frames] */
static struct http_site sites[2][2];
static const struct linkyd_config *configs[2];
static struct state_store *stores[2];
static struct sink *sinks[2];
static struct tic_stats stats = {.frames = 7, .groups = 70, .errors = {1, 2, 3, 4, 5}};
static struct line_status line = {.state = LINE_OK,
                                  .mode = TIC_MODE_STANDARD,
                                  .baud = 9600,
                                  .source = "/dev/\"fuzz\"",
                                  .stats = &stats};

/* ---- frames, through the real parser ------------------------------------------------------- */

static char tic[4096];
static size_t tic_len;

static void
put(const char *s, size_t n)
{
	CHECK(tic_len + n < sizeof(tic));
	memcpy(tic + tic_len, s, n);
	tic_len += n;
}

/* A group with its check character: historique sums label SP value, standard everything up to
 * the last HT. */
static void
group(enum tic_mode mode, const char *label, const char *horodate, const char *value)
{
	char body[256];
	unsigned sum = 0;
	int n;

	if (mode == TIC_MODE_HISTORIQUE)
		n = snprintf(body, sizeof(body), "%s %s", label, value);
	else if (horodate)
		n = snprintf(body, sizeof(body), "%s\t%s\t%s\t", label, horodate, value);
	else
		n = snprintf(body, sizeof(body), "%s\t%s\t", label, value);
	for (int i = 0; i < n; i++)
		sum += (unsigned char) body[i];
	put("\n", 1);
	put(body, (size_t) n);
	if (mode == TIC_MODE_HISTORIQUE)
		put(" ", 1);
	body[0] = (char) ((sum & 0x3f) + 0x20);
	put(body, 1);
	put("\r", 1);
}

static struct sink *frame_sink;

static int
on_frame(const struct tic_frame *f, void *userdata)
{
	bool due[TIC_FRAME_GROUPS] = {0};
	struct sink_frame sf = {
	    .whole = f, .kept = f, .due = due, .mono_ms = 1000, .wall = 1000000000};

	(void) userdata;
	frame_sink->ops->frame(frame_sink, &sf);
	return 0;
}

static void
feed(struct sink *s)
{
	static const struct tic_parser_callbacks cb = {.on_frame = on_frame};
	static struct tic_parser p;

	frame_sink = s;
	tic_parser_init(&p, &cb, NULL);
	CHECK(tic_parser_feed(&p, tic, tic_len) == tic_len);
	tic_len = 0;
}

static void
fill(struct state_store *st)
{
	static const char *const hist[][2] = {
	    {"ADCO", "031961098836"}, {"OPTARIF", "HC.."},    {"ISOUSC", "25"},
	    {"HCHC", "015558379"},    {"HCHP", "011651340"},  {"PTEC", "HP.."},
	    {"IINST1", "001"},        {"IINST2", "001"},      {"IINST3", "000"},
	    {"IMAX1", "060"},         {"PMAX", "08611"},      {"PAPP", "00540"},
	    {"HHPHC", "A"},           {"MOTDETAT", "000000"}, {"PPOT", "00"}};
	static const char *const std[][3] = {{"ADSC", NULL, "041776199277"},
	                                     {"DATE", "H200214230814", ""},
	                                     {"NGTF", NULL, "     TEMPO      "},
	                                     {"LTARF", NULL, "    HC  BLANC   "},
	                                     {"EAST", NULL, "021849109"},
	                                     {"EASF01", NULL, "004855593"},
	                                     {"EASF02", NULL, "014090959"},
	                                     {"EASF03", NULL, "000487134"},
	                                     {"NTARF", NULL, "03"},
	                                     {"IRMS1", NULL, "003"},
	                                     {"IRMS2", NULL, "006"},
	                                     {"IRMS3", NULL, "003"},
	                                     {"URMS1", NULL, "237"},
	                                     {"PREF", NULL, "30"},
	                                     {"SINSTS", NULL, "02698"},
	                                     {"STGE", NULL, "463A0800"},
	                                     {"ERQ1", NULL, "000000012"}};

	for (int i = 0; i < 2; i++) {
		CHECK(state_sink_new(st, i ? "std \"x\"" : "hist", NULL, &sinks[i]) == 0);
		sinks[i]->ops->line(sinks[i], &line);
	}
	put("\x02", 1);
	for (size_t i = 0; i < sizeof(hist) / sizeof(hist[0]); i++)
		group(TIC_MODE_HISTORIQUE, hist[i][0], NULL, hist[i][1]);
	put("\x03\x02", 2);
	group(TIC_MODE_HISTORIQUE, "ADCO", NULL, "031961098836");
	group(TIC_MODE_HISTORIQUE, "ADIR1", NULL, "001");
	group(TIC_MODE_HISTORIQUE, "IINST1", NULL, "001");
	group(TIC_MODE_HISTORIQUE, "IINST2", NULL, "009");
	put("\x03", 1);
	feed(sinks[0]);
	put("\x02", 1);
	for (size_t i = 0; i < sizeof(std) / sizeof(std[0]); i++)
		group(TIC_MODE_STANDARD, std[i][0], std[i][1], std[i][2]);
	put("\x03", 1);
	feed(sinks[1]);
}

/* ---- set-up, once -----------------------------------------------------------------------------
 */

static const struct linkyd_config *
load(const char *http)
{
	char path[] = "/dev/shm/fuzz_http-XXXXXX", err[CONFIG_ERROR_SIZE];
	struct config_args args = {.path = path};
	const struct linkyd_config *c = NULL;
	int fd = mkstemp(path);
	FILE *f;

	CHECK(fd >= 0 && (f = fdopen(fd, "w")));
	fprintf(f, conf_text, http);
	fclose(f);
	if (config_load(&args, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_http: %s\n", err);
		abort();
	}
	(void) unlink(path);
	return c;
}

static void
cleanup(void)
{
	for (int a = 0; a < 2; a++) {
		for (int f = 0; f < 2; f++)
			http_site_done(&sites[a][f]);
		config_unref(configs[a]);
	}
	for (int i = 0; i < 2; i++)
		sink_free(sinks[i]);
	for (int f = 0; f < 2; f++)
		state_store_free(stores[f]);
}

static void
setup(void)
{
	configs[0] = load("");
	configs[1] = load("username = \"eco\"; password = \"s3cr:t\"; realm = \"Eco Devices\";");
	for (int f = 0; f < 2; f++)
		CHECK(state_store_new(&stores[f]) == 0);
	fill(stores[1]);
	for (int a = 0; a < 2; a++)
		for (int f = 0; f < 2; f++)
			http_site_init(&sites[a][f], configs[a], stores[f], a ? "s3cr:t" : NULL,
			               "fuzz \x01 host <&>");
	atexit(cleanup);
}

/* ---- one request ------------------------------------------------------------------------------
 */

static bool
ascii_lines(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((s[i] < ' ' || s[i] > '~') && s[i] != '\n')
			return false;
	return true;
}

static void
check(const struct http_request *req, bool auth, const struct http_response *r)
{
	bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;

	CHECK(r->status == 200 || r->status == 401 || r->status == 404 || r->status == 405);
	CHECK(r->body && strlen(r->body) == r->len && r->content_type);
	CHECK((r->status == 405) == !get && r->allow == !get);
	CHECK(r->challenge == (r->status == 401));
	if (!auth)
		CHECK(r->status != 401);
	else if (get && !req->authorization)
		CHECK(r->status == 401);
	if (r->status == 200 && auth)
		CHECK(strncasecmp(req->authorization, "Basic", 5) == 0);
	if (r->status != 200)
		return;
	if (strcmp(req->path, "/status.json") == 0) {
		cJSON *tree = cJSON_ParseWithLength(r->body, r->len);

		CHECK(tree && cJSON_IsObject(tree));
		cJSON_Delete(tree);
	} else {
		CHECK(ascii_lines(r->body, r->len));
	}
}

/* The next line of [*p, end) as a NUL-terminated copy; NULL when there is none. */
static char *
take_line(const char **p, const char *end)
{
	const char *nl;
	char *s;

	if (*p > end)
		return NULL;
	nl = memchr(*p, '\n', (size_t) (end - *p));
	if (!nl)
		nl = end;
	s = strndup(*p, (size_t) (nl - *p));
	CHECK(s);
	*p = nl + 1;
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *) data + 1, *end = (const char *) data + size;
	char *method, *path, *authorization;
	struct http_response r;
	struct http_request req;
	bool auth, frames;

	if (!configs[0])
		setup();
	if (size < 1)
		return 0;
	auth = data[0] & 1;
	frames = data[0] & 2;
	method = take_line(&p, end);
	path = take_line(&p, end);
	authorization = take_line(&p, end);
	/* A method or path with a NUL cannot come from MHD, which hands over C strings. */
	if (!method || !path) {
		free(method);
		free(path);
		free(authorization);
		return 0;
	}
	req = (struct http_request){.method = method, .path = path, .authorization = authorization};
	http_respond(&sites[auth][frames], &req, 5000, &r);
	check(&req, auth, &r);
	http_response_done(&r);
	free(method);
	free(path);
	free(authorization);
	return 0;
}
