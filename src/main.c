/* SPDX-License-Identifier: MIT */
/*
 * linkyd's composition root: the command line and the configuration, then either a one-shot
 * job (--decode, --check-config, --list-ports) or the daemon: meters on one event loop, with
 * signals, the systemd watchdog, reload on SIGHUP and a bounded shutdown on SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sysexits.h>
#include <unistd.h>

#include "linkyd/anon.h"
#include "linkyd/config.h"
#include "linkyd/decode.h"
#include "linkyd/doctor.h"
#include "linkyd/http.h"
#include "linkyd/log.h"
#include "linkyd/loop.h"
#include "linkyd/meter.h"
#include "linkyd/mqtt.h"
#include "linkyd/notify.h"
#include "linkyd/serial.h"

#define SHUTDOWN_MS 3000 /* systemd's stop must not wait on a dead broker */

/* What the command line says; it overrides the file, at start and at every reload. */
struct options {
	const char *config_path;
	bool config_explicit;
	char **inputs;
	size_t n_inputs;
	const char *mqtt_url;
	const char *topic;
	const char *format;
	const char *http;
	int verbosity;
};

struct daemon {
	struct loop *loop;
	const struct options *opt;
	const struct linkyd_config *cfg;   /* the running configuration, for meters to start */
	const struct linkyd_config *fresh; /* a reload waiting for the changed meters to close */
	struct state_store *store;         /* the latest of every meter */
	struct http_server *http;          /* NULL: no HTTP API */
	struct meter **meters;
	size_t n_meters;
	size_t closing;
	bool stopping;
	struct loop_io sig;
	struct loop_timer watchdog, deadline;
};

static void
usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: linkyd [OPTIONS]                 run the daemon\n"
	    "       linkyd --decode [--format typed|raw] FILE\n"
	    "       linkyd --doctor [OPTIONS]\n"
	    "       linkyd --check-config [OPTIONS] | --list-ports | --help | --version\n"
	    "\n"
	    "Bridge the TIC port of a Linky (or older Enedis electronic) meter to MQTT.\n"
	    "Historique (1200 Bd) and standard (9600 Bd) modes are detected from the data.\n"
	    "\n"
	    "  -c, --config FILE     configuration file (default " LINKYD_CONFIG_PATH
	    ", if present)\n"
	    "  -i, --input SPEC      where to read a meter: a serial device,\n"
	    "                        \"serial:/dev/ttyAMA0\" or a bare path, or a serial\n"
	    "                        bridge's TCP stream, \"tcp:HOST:PORT\"; repeat for several\n"
	    "                        meters; replaces the configured meters\n"
	    "                        (default " CONFIG_DEFAULT_INPUT "); an Eesmart D2L module\n"
	    "                        (\"d2l:[ADDR:]PORT\") needs its id, key and iv: set it in\n"
	    "                        the configuration file\n"
	    "      --mqtt URL        broker, mqtt://host[:port] or mqtts://host[:port]\n"
	    "                        (default " CONFIG_DEFAULT_URL ")\n"
	    "      --topic TOPIC     base topic (default " CONFIG_DEFAULT_TOPIC
	    "): frames on TOPIC,\n"
	    "                        online/offline on TOPIC/status, mode on TOPIC/mode,\n"
	    "                        computed values on TOPIC/derived and TOPIC/energy\n"
	    "  -F, --format FORMAT   typed (default): numbers, ISO dates, STGE decoded;\n"
	    "                        raw: every label maps to the exact string the meter sent\n"
	    "      --http ADDR:PORT  serve the HTTP API (EcoDevice XML, /metrics, /status.json)\n"
	    "                        on ADDR:PORT, or 127.0.0.1:PORT for a lone port\n"
	    "  -v, --verbose         more logging; twice: every byte read (for bug reports)\n"
	    "      --check-config    validate the configuration, print it (secrets masked), exit\n"
	    "      --list-ports      list serial ports with their USB descriptions, exit\n"
	    "      --doctor          check the setup (configuration, device, access, console,\n"
	    "                        other programs, ModemManager, the line at 1200 and\n"
	    "                        9600 Bd, the broker, Home Assistant), one line each with\n"
	    "                        the fix, then a verdict; changes nothing; exit status 0\n"
	    "                        no problem, 1 a problem, 78 bad configuration, 71 the\n"
	    "                        checks could not be set up; -v adds the daemon's log\n"
	    "  -d, --decode          decode the TIC capture FILE (\"-\" = standard input): one\n"
	    "                        JSON object per valid frame on standard output, counters\n"
	    "                        on standard error; no meter or broker needed\n"
	    "  -h, --help            show this help and exit\n"
	    "  -V, --version         show the version and exit\n"
	    "\n"
	    "Exit status: 0 on success, 64 bad usage, 66 unreadable capture, 78 bad "
	    "configuration;\n"
	    "--doctor: 1 a problem found, 71 the checks could not be set up.\n"
	    "Example: linkyd -i /dev/ttyUSB0 --mqtt mqtt://192.168.1.10 -v\n"
	    "Publish policies, per-label topics, Home Assistant discovery, anonymisation and the\n"
	    "rest are set in the configuration file: see its comments and the README.\n");
}

/* Defaults, then the file, then the command line, into *ret (config_unref() it). Returns 0, or
 * EX_CONFIG with the error in err: one line, "FILE:LINE: ..." when the file is to blame. */
static int
read_config(const struct options *opt, const struct linkyd_config **ret, char *err, size_t size)
{
	char host[256] = "";
	struct config_args args = {
	    .path = opt->config_path,
	    .optional = !opt->config_explicit,
	    .inputs = opt->inputs,
	    .n_inputs = opt->n_inputs,
	    .mqtt_url = opt->mqtt_url,
	    .topic = opt->topic,
	    .format = opt->format,
	    .http = opt->http,
	    .verbosity = opt->verbosity,
	    .hostname = host,
	};
	const struct linkyd_config *c;
	int r;

	(void) gethostname(host, sizeof(host) - 1);
	r = config_load(&args, &c, err, size);
	if (r == 0 && c->anonymise && !c->anonymise_key) {
		struct anon_key key;
		const char *where = config_where(c, "publish.anonymise");
		int k = anon_key_load(NULL, &key);

		/* Better not to start than to publish the real identifiers. */
		if (k < 0) {
			snprintf(
			    err, size,
			    "%s%spublish.anonymise: no key: %s: %s (set publish.anonymise_key)",
			    where ? where : "", where ? ": " : "", ANON_MACHINE_ID,
			    k == -EINVAL ? "no machine id in it" : strerror(-k));
			c = config_unref(c);
			r = -EINVAL;
		}
	}
	/* The password file is read where it is used (mqtt_new()); it is checked here so that a
	 * bad one stops the start, and --check-config, with its file and line. */
	if (r == 0 && c->mqtt.password_file) {
		char perr[CONFIG_ERROR_SIZE / 2], *password;
		const char *where = config_where(c, "mqtt.password_file");
		int k = mqtt_password_load(c->mqtt.password_file, &password, perr, sizeof(perr));

		if (k == 0) {
			explicit_bzero(password, strlen(password));
			free(password);
		} else {
			snprintf(err, size, "%s%smqtt.password_file: %s", where ? where : "",
			         where ? ": " : "", perr);
			c = config_unref(c);
			r = k;
		}
	}
	if (r < 0)
		return EX_CONFIG;
	*ret = c;
	return 0;
}

/* The same, the error said on stderr. */
static int
load_config(const struct options *opt, const struct linkyd_config **ret)
{
	char err[CONFIG_ERROR_SIZE] = "";
	int r = read_config(opt, ret, err, sizeof(err));

	if (r != 0)
		fprintf(stderr, "linkyd: %s\n", err);
	return r;
}

/* ---- the daemon -------------------------------------------------------------------------- */

static void
update_status(struct daemon *d)
{
	char line[512] = "", one[160];
	size_t o = 0;

	for (size_t i = 0; i < state_store_count(d->store) && o < sizeof(line); i++) {
		state_describe(state_store_at(d->store, i), one, sizeof(one));
		o += (size_t) snprintf(line + o, sizeof(line) - o, "%s%s", i ? "; " : "", one);
	}
	notify_status("%s", line);
}

static void
on_meter_change(struct meter *m, void *userdata)
{
	(void) m;
	update_status(userdata);
}

static void apply_fresh(struct daemon *d);

/* Swap the configuration once the reload's closing is over, not from inside a meter's own
 * callbacks nor in the middle of reload()'s loop over the meters (a meter whose broker is
 * away closes at once). */
static void
apply_fresh_deferred(void *userdata)
{
	struct daemon *d = userdata;

	if (d->stopping)
		return; /* d->fresh is dropped at exit */
	apply_fresh(d);
}

static void
free_meter(void *m)
{
	meter_free(m);
}

static void
on_meter_closed(struct meter *m, void *userdata)
{
	struct daemon *d = userdata;

	for (size_t i = 0; i < d->n_meters; i++) {
		if (d->meters[i] != m)
			continue;
		memmove(&d->meters[i], &d->meters[i + 1], (d->n_meters - i - 1) * sizeof(m));
		d->n_meters--;
		break;
	}
	/* Not now: this runs deep inside the meter's own callbacks. */
	if (loop_defer(d->loop, free_meter, m) < 0)
		log_err("out of memory: meter '%s' leaks", meter_name(m));
	if (--d->closing > 0)
		return;
	if (d->stopping)
		loop_quit(d->loop, 0);
	else if (d->fresh && loop_defer(d->loop, apply_fresh_deferred, d) < 0)
		apply_fresh(d); /* out of memory: at once, from here, rather than never */
}

static const struct meter_callbacks meter_cbs = {
    .on_change = on_meter_change,
    .on_closed = on_meter_closed,
};

/* Whether a running meter carries on unchanged under the new configuration. */
static bool
kept(const struct daemon *d, const struct meter *m)
{
	return config_meter_kept(d->cfg, d->fresh, meter_config(m));
}

static int
start_meters(struct daemon *d, size_t first)
{
	struct meter **all = realloc(d->meters, d->cfg->n_meters * sizeof(*all));

	if (!all)
		return -ENOMEM;
	d->meters = all;
	for (size_t j = 0; j < d->cfg->n_meters; j++) {
		bool running = false;
		int r;

		for (size_t i = 0; i < first; i++)
			running |= strcmp(meter_name(d->meters[i]), d->cfg->meters[j].name) == 0;
		if (running)
			continue;
		r = meter_new(d->loop, &d->cfg->meters[j], d->cfg, d->store, &meter_cbs, d,
		              &d->meters[d->n_meters]);
		if (r < 0)
			return log_errno(LOG_ERR, r, "cannot start meter '%s'",
			                 d->cfg->meters[j].name);
		d->n_meters++;
	}
	return 0;
}

/* The changed meters are closed: swap in the new configuration and start what is new. */
static void
apply_fresh(struct daemon *d)
{
	size_t kept = d->n_meters;

	/* The meters kept hold a reference to the snapshot they started with, equal to the fresh
	 * one in all they use (config_meter_kept()): they carry on with it. */
	config_unref(d->cfg);
	d->cfg = d->fresh;
	d->fresh = NULL;
	log_init(d->cfg->verbosity);
	if (start_meters(d, kept) < 0)
		log_err("reload: some meters could not start; fix the configuration and reload");
	if (http_server_apply(d->loop, d->cfg, d->store, &d->http) < 0)
		log_err(
		    "reload: the HTTP API could not take the new settings; fix them and reload");
	notify_ready();
	update_status(d);
	log_notice("configuration reloaded (%zu meter(s), %zu restarted)", d->n_meters,
	           d->n_meters - kept);
}

static bool
changed(const struct daemon *d, const struct meter *m)
{
	return !meter_is_closing(m) && !kept(d, m);
}

static bool
running(const struct daemon *d, const struct meter *m)
{
	(void) d;
	return !meter_is_closing(m);
}

/* Close the meters which() selects; returns how many. A meter whose broker is away closes at
 * once, leaving d->meters from inside meter_close(): they are all counted in d->closing first,
 * so that it only comes down to 0 with the last one. */
static size_t
close_meters(struct daemon *d, bool (*which)(const struct daemon *, const struct meter *),
             unsigned timeout_ms)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n_meters; i++)
		n += which(d, d->meters[i]);
	d->closing += n;
	for (size_t i = 0; i < d->n_meters;) {
		struct meter *m = d->meters[i];

		if (which(d, m))
			meter_close(m, timeout_ms);
		/* Closed at once, m left the array: the next one is at i now. */
		if (i < d->n_meters && d->meters[i] == m)
			i++;
	}
	return n;
}

static void
reload(struct daemon *d)
{
	if (d->fresh || d->stopping)
		return;
	notify_reloading();
	if (load_config(d->opt, &d->fresh) != 0) {
		log_err("reload failed, keeping the running configuration");
		notify_ready();
		return;
	}
	/* Close what changed first, so that its "offline" precedes the new client's "online". */
	if (close_meters(d, changed, SHUTDOWN_MS) == 0)
		apply_fresh(d);
}

static void
stop(struct daemon *d)
{
	if (d->stopping)
		return;
	d->stopping = true;
	notify_stopping();
	log_notice("stopping");
	(void) loop_timer_arm(&d->deadline, SHUTDOWN_MS, 0);
	/* Meters a reload is already closing are counted in d->closing. */
	(void) close_meters(d, running, SHUTDOWN_MS - 500);
	if (d->closing == 0)
		loop_quit(d->loop, 0);
}

static void
deadline_due(struct loop_timer *t)
{
	struct daemon *d = container_of(t, struct daemon, deadline);

	log_warn("shutdown took longer than %d ms, exiting anyway", SHUTDOWN_MS);
	loop_quit(d->loop, 0);
}

static void
watchdog_due(struct loop_timer *t)
{
	struct daemon *d = container_of(t, struct daemon, watchdog);

	notify_watchdog();
	update_status(d);
}

static void
signal_ready(struct loop_io *io, uint32_t events)
{
	struct daemon *d = container_of(io, struct daemon, sig);
	struct signalfd_siginfo si;

	(void) events;
	while (read(io->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			reload(d);
		else
			stop(d);
	}
}

static int
run_daemon(const struct options *opt)
{
	struct daemon d = {.opt = opt};
	sigset_t mask;
	uint64_t wd_ms;
	int r, fd, status = EX_OK;

	r = load_config(opt, &d.cfg);
	if (r != 0)
		return r;
	log_init(d.cfg->verbosity);
	d.sig.fd = d.watchdog.io.fd = d.deadline.io.fd = -1;

	/* Before any library starts a thread (paho does): threads inherit the mask, so signals
	 * only ever arrive through the signalfd, in the loop. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	d.loop = loop_new();
	if (!d.loop || state_store_new(&d.store) < 0) {
		log_errno(LOG_ERR, -errno, "cannot create the event loop");
		status = EX_OSERR;
		goto out_config;
	}
	fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0 || loop_add(d.loop, &d.sig, fd, EPOLLIN, signal_ready) < 0 ||
	    loop_timer_init(d.loop, &d.deadline, deadline_due) < 0 ||
	    loop_timer_init(d.loop, &d.watchdog, watchdog_due) < 0) {
		log_errno(LOG_ERR, -errno, "cannot set up signals and timers");
		if (fd >= 0 && d.sig.fd < 0)
			(void) close(fd);
		status = EX_OSERR;
		goto out_loop;
	}
	wd_ms = notify_watchdog_ms();
	if (wd_ms)
		(void) loop_timer_arm(&d.watchdog, wd_ms / 2, wd_ms / 2);

	log_notice("linkyd %s starting: %zu meter(s), broker %s, %s JSON", LINKYD_VERSION,
	           d.cfg->n_meters, d.cfg->mqtt.url, json_format_name(d.cfg->format));
	/* Before the meters: a port taken or a password file missing stops the start before any
	 * meter says "online". */
	if (http_server_apply(d.loop, d.cfg, d.store, &d.http) < 0) {
		status = EX_CONFIG;
		goto out_meters;
	}
	if (start_meters(&d, 0) < 0) {
		status = EX_SOFTWARE;
		goto out_meters;
	}
	/* Ready once set up, without waiting for the broker: frames queue until it answers. */
	notify_ready();
	update_status(&d);
	r = loop_run(d.loop);
	if (r < 0) {
		log_errno(LOG_ERR, r, "event loop failed");
		status = EX_OSERR;
	}

out_meters:
	/* It reads the store, which the meters' sinks leave as they go. */
	http_server_free(d.http);
	for (size_t i = 0; i < d.n_meters; i++)
		meter_free(d.meters[i]);
	free(d.meters);
	config_unref(d.fresh);
out_loop:
	loop_timer_done(d.loop, &d.watchdog);
	loop_timer_done(d.loop, &d.deadline);
	if (d.sig.fd >= 0) {
		loop_del(d.loop, &d.sig);
		(void) close(d.sig.fd);
	}
	loop_free(d.loop);
	state_store_free(d.store);
out_config:
	config_unref(d.cfg);
	return status;
}

/* ---- one-shot jobs ----------------------------------------------------------------------- */

static int
check_config(const struct options *opt)
{
	const struct linkyd_config *c;
	int r = load_config(opt, &c);

	if (r != 0)
		return r;
	r = config_print(c, stdout);
	config_unref(c);
	if (r < 0) {
		fprintf(stderr, "linkyd: %s\n", strerror(-r));
		return EX_OSERR;
	}
	return EX_OK;
}

/* The configuration is the first check: when it is bad nothing else can be checked, and its
 * line (FILE:LINE) is all the doctor says. */
static int
doctor(const struct options *opt)
{
	char err[CONFIG_ERROR_SIZE] = "";
	const struct linkyd_config *c;
	int r = read_config(opt, &c, err, sizeof(err));

	if (r != 0) {
		printf("%-8s configuration: %s\n", "problem", err);
		return r;
	}
	/* The daemon's own log only on request: the report is the output. */
	log_init(opt->verbosity > 0 ? c->verbosity : -1);
	r = doctor_run(c,
	               opt->config_explicit || access(opt->config_path, F_OK) == 0
	                   ? opt->config_path
	                   : "no configuration file, the defaults",
	               stdout);
	config_unref(c);
	return r;
}

static int
list_ports(void)
{
	int n = serial_list_ports(stdout);

	if (n < 0) {
		fprintf(stderr, "linkyd: cannot list serial ports: %s\n", strerror(-n));
		return EX_OSERR;
	}
	if (n == 0)
		fprintf(stderr,
		        "linkyd: no serial port found. On a Raspberry Pi with a PiTInfo, "
		        "enable the UART (raspi-config, Interface Options, Serial Port: "
		        "no login shell, hardware enabled) and reboot; /dev/serial0 appears.\n");
	return EX_OK;
}

enum {
	OPT_MQTT = 256,
	OPT_TOPIC,
	OPT_CHECK_CONFIG,
	OPT_LIST_PORTS,
	OPT_HTTP,
	OPT_DOCTOR,
};

int
main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"input", required_argument, NULL, 'i'},
	    {"mqtt", required_argument, NULL, OPT_MQTT},
	    {"topic", required_argument, NULL, OPT_TOPIC},
	    {"format", required_argument, NULL, 'F'},
	    {"http", required_argument, NULL, OPT_HTTP},
	    {"verbose", no_argument, NULL, 'v'},
	    {"check-config", no_argument, NULL, OPT_CHECK_CONFIG},
	    {"list-ports", no_argument, NULL, OPT_LIST_PORTS},
	    {"doctor", no_argument, NULL, OPT_DOCTOR},
	    /* A flag, its file an operand, so that options may follow it; the optional argument
	     * keeps --decode=FILE, the old spelling, working. */
	    {"decode", optional_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct options opt = {.config_path = LINKYD_CONFIG_PATH};
	const char *decode_path = NULL;
	enum json_format format = JSON_FORMAT_TYPED;
	bool check = false, ports = false, decode = false, diagnose = false;
	int c, status;

	opt.inputs = calloc((size_t) argc, sizeof(*opt.inputs));
	if (!opt.inputs)
		return EX_OSERR;
	while ((c = getopt_long(argc, argv, "c:i:F:vdhV", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			opt.config_path = optarg;
			opt.config_explicit = true;
			break;
		case 'i':
			opt.inputs[opt.n_inputs++] = optarg;
			break;
		case OPT_MQTT:
			opt.mqtt_url = optarg;
			break;
		case OPT_TOPIC:
			opt.topic = optarg;
			break;
		case 'F':
			if (json_format_parse(optarg, &format) < 0) {
				fprintf(stderr,
				        "linkyd: unknown format '%s' (expected typed or raw)\n",
				        optarg);
				free(opt.inputs);
				return EX_USAGE;
			}
			opt.format = optarg;
			break;
		case OPT_HTTP:
			opt.http = optarg;
			break;
		case 'v':
			opt.verbosity++;
			break;
		case OPT_CHECK_CONFIG:
			check = true;
			break;
		case OPT_LIST_PORTS:
			ports = true;
			break;
		case OPT_DOCTOR:
			diagnose = true;
			break;
		case 'd':
			decode = true;
			decode_path = optarg;
			break;
		case 'h':
			usage(stdout);
			free(opt.inputs);
			return EX_OK;
		case 'V':
			printf("linkyd %s\n", LINKYD_VERSION);
			free(opt.inputs);
			return EX_OK;
		default:
			fprintf(stderr, "Try 'linkyd --help' for more information.\n");
			free(opt.inputs);
			return EX_USAGE;
		}
	}
	/* getopt_long() moved the operands to the end: --decode's file, and nothing else. */
	if (decode && !decode_path && optind < argc)
		decode_path = argv[optind++];
	if (decode && !decode_path) {
		fprintf(stderr, "linkyd: --decode needs a FILE to decode (\"-\" for standard "
		                "input)\nTry 'linkyd --help' for more information.\n");
		free(opt.inputs);
		return EX_USAGE;
	}
	if (optind < argc) {
		fprintf(stderr, "linkyd: unexpected argument '%s'\n", argv[optind]);
		free(opt.inputs);
		return EX_USAGE;
	}
	if (decode)
		status = decode_run(decode_path, format);
	else if (ports)
		status = list_ports();
	else if (check)
		status = check_config(&opt);
	else if (diagnose)
		status = doctor(&opt);
	else
		status = run_daemon(&opt);
	free(opt.inputs);
	return status;
}
