/* SPDX-License-Identifier: MIT */
/*
 * The HTTP site without a socket (src/http/site.c): Basic credentials as clients really send
 * them and as they must not be taken, routing by method and path, and what the Eco-Devices
 * status says of the host before any meter. The pages on real frames are checked end to end
 * by tests/integration/test_http.py, the way Domoticz and pyecodevices read them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "linkyd/http.h"

struct fixture {
	const struct linkyd_config *cfg;
	struct state_store *store;
	struct http_site site;
};

static const struct linkyd_config *
load(const char *text)
{
	char path[] = "/tmp/test_http-XXXXXX", err[CONFIG_ERROR_SIZE] = "";
	struct config_args args = {.path = path};
	const struct linkyd_config *c = NULL;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
	(void) close(fd);
	if (config_load(&args, &c, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	(void) unlink(path);
	return c;
}

static int
setup(void **state, const char *text, const char *password, const char *host)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->cfg = load(text);
	assert_int_equal(state_store_new(&f->store), 0);
	http_site_init(&f->site, f->cfg, f->store, password, host);
	*state = f;
	return 0;
}

static int
setup_auth(void **state)
{
	return setup(state,
	             "http = { listen = \"8080\"; username = \"eco\"; password = \"pw\"; "
	             "realm = \"R\"; };\n",
	             "s3cr:t \xc3\xa9", "ecodevices");
}

static int
setup_open(void **state)
{
	return setup(state, "http = { listen = \"[::1]:8080\"; };\n", NULL,
	             "my host!<&>\x01\xc3\xa9");
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	http_site_done(&f->site);
	state_store_free(f->store);
	config_unref(f->cfg);
	free(f);
	return 0;
}

static unsigned
status_of(struct fixture *f, const char *method, const char *path, const char *authorization)
{
	struct http_request req = {.method = method, .path = path, .authorization = authorization};
	struct http_response r;
	unsigned status;

	http_respond(&f->site, &req, 1000, &r);
	status = r.status;
	assert_non_null(r.body);
	assert_int_equal(strlen(r.body), r.len);
	assert_int_equal(r.challenge, status == 401);
	assert_int_equal(r.allow, status == 405);
	http_response_done(&r);
	return status;
}

/* The password given to the site (the file's), not http.password: "s3cr:t é". */
static void
test_auth(void **state)
{
	static const struct {
		const char *header;
		unsigned status;
	} cases[] = {
	    {NULL, 401},
	    {"", 401},
	    {"Basic ZWNvOnMzY3I6dCDDqQ==", 200}, /* eco:s3cr:t é, as aiohttp sends it */
	    {"basic ZWNvOnMzY3I6dCDDqQ==", 200}, /* the scheme is case-insensitive */
	    {"BASIC \t ZWNvOnMzY3I6dCDDqQ== ", 200},
	    {"Basic ZWNvOnMzY3I6dCDDqQ", 200},  /* padding left out */
	    {"Basic ZWNvOnMzY3I6dCDDqQ=", 401}, /* half the padding */
	    {"Basic ZWNvOnMzY3I6dCDDqQ==x", 401},
	    {"Basic ZWNvOnMzY3I6dCDDqQ== x", 401},
	    {"Basic  ", 401},
	    {"Basic", 401},
	    {"BasicZWNvOnMzY3I6dCDDqQ==", 401},
	    {"Digest username=\"eco\"", 401},
	    {"Basic ZWNvOnB3", 401},             /* eco:pw, http.password: the file's wins */
	    {"Basic ZWNvOnMzY3I6dA==", 401},     /* eco:s3cr:t, a prefix */
	    {"Basic ZWNvOnMzY3I6dCDDqSA=", 401}, /* eco:s3cr:t é + a space */
	    {"Basic RUNPOnMzY3I6dCDDqQ==", 401}, /* ECO: user names are exact */
	    {"Basic OnMzY3I6dCDDqQ==", 401},     /* no user */
	    {"Basic ZWNv", 401},                 /* no colon */
	    {"Basic ZW*vOnMzY3I6dCDDqQ==", 401},
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s\n", cases[i].header ? cases[i].header : "(none)");
		assert_int_equal(status_of(f, "GET", "/status.xml", cases[i].header),
		                 cases[i].status);
	}
	/* Every path is protected, an unknown one too; the method comes first. */
	assert_int_equal(status_of(f, "GET", "/metrics", NULL), 401);
	assert_int_equal(status_of(f, "GET", "/nowhere", NULL), 401);
	assert_int_equal(status_of(f, "PUT", "/status.xml", NULL), 405);
}

static void
test_routes(void **state)
{
	static const struct {
		const char *method, *path;
		unsigned status;
		const char *type;
	} cases[] = {
	    {"GET", "/status.xml", 200, "text/xml; charset=utf-8"},
	    {"HEAD", "/status.xml", 200, "text/xml; charset=utf-8"},
	    {"GET", "/protect/settings/teleinfo1.xml", 200, "text/xml; charset=utf-8"},
	    {"GET", "/protect/settings/teleinfo2.xml", 200, "text/xml; charset=utf-8"},
	    {"GET", "/metrics", 200, "text/plain; version=0.0.4; charset=utf-8"},
	    {"GET", "/status.json", 200, "application/json"},
	    {"GET", "/", 200, "text/plain; charset=utf-8"},
	    {"GET", "/protect/settings/teleinfo3.xml", 404, NULL},
	    {"GET", "/status.xml/", 404, NULL},
	    {"GET", "", 404, NULL},
	    {"get", "/status.xml", 405, NULL},
	    {"POST", "/status.xml", 405, NULL},
	    {"OPTIONS", "*", 405, NULL},
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_request req = {.method = cases[i].method, .path = cases[i].path};
		struct http_response r;

		print_message("%s %s\n", cases[i].method, cases[i].path);
		http_respond(&f->site, &req, 1000, &r);
		assert_int_equal(r.status, cases[i].status);
		if (cases[i].type)
			assert_string_equal(r.content_type, cases[i].type);
		http_response_done(&r);
	}
}

/* No meter yet: both inputs empty, the host's name cleaned to what XML and Domoticz take. */
static void
test_status_without_meters(void **state)
{
	struct fixture *f = *state;
	struct http_request req = {.method = "GET", .path = "/status.xml"};
	struct http_response r;
	char mac[18];

	http_respond(&f->site, &req, 1000, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<version>" HTTP_VERSION_XML "</version>"));
	assert_non_null(strstr(r.body, "<config_hostname>myhost</config_hostname>"));
	assert_non_null(strstr(r.body, "<T1_PTEC>----</T1_PTEC>"));
	assert_non_null(strstr(r.body, "<T2_PTEC>----</T2_PTEC>"));
	assert_non_null(strstr(r.body, "<count0>0</count0>"));
	assert_int_equal(sscanf(strstr(r.body, "<config_mac>") + 12, "%17[0-9A-F:]", mac), 1);
	assert_int_equal(strlen(mac), 17);
	assert_memory_equal(mac, "02:", 3);
	for (size_t i = 0; i < r.len; i++)
		assert_true((r.body[i] >= ' ' && r.body[i] <= '~') || r.body[i] == '\n');
	http_response_done(&r);
	/* The same host and address: the same MAC, across restarts. */
	http_site_done(&f->site);
	http_site_init(&f->site, f->cfg, f->store, NULL, "my host!<&>\x01\xc3\xa9");
	assert_string_equal(f->site.mac, mac);
	http_site_init(&f->site, f->cfg, f->store, NULL, NULL);
	assert_string_equal(f->site.hostname, "linkyd");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_auth, setup_auth, teardown),
	    cmocka_unit_test_setup_teardown(test_routes, setup_open, teardown),
	    cmocka_unit_test_setup_teardown(test_status_without_meters, setup_open, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
