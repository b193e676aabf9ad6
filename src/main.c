/* SPDX-License-Identifier: MIT */
/* linkyd's composition root: the command line, then the job it asks for. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "linkyd/decode.h"

static void
usage(FILE *out)
{
	fprintf(out,
	        "Usage: linkyd --decode FILE [--format typed|raw]\n"
	        "       linkyd --help | --version\n"
	        "\n"
	        "Bridge the TIC port of a Linky (or older Enedis electronic) meter to MQTT.\n"
	        "Historique (1200 Bd) and standard (9600 Bd) modes are detected from the data.\n"
	        "\n"
	        "  -d, --decode FILE     decode a TIC capture (\"-\" = standard input): print one\n"
	        "                        JSON object per valid frame on standard output and the\n"
	        "                        error counters on standard error\n"
	        "  -F, --format FORMAT   typed (default): numbers, ISO dates, STGE decoded;\n"
	        "                        raw: every label maps to the exact string the meter sent\n"
	        "  -h, --help            show this help and exit\n"
	        "  -V, --version         show the version and exit\n"
	        "\n"
	        "Example: linkyd --decode tests/data/standard-mono-base-01.tic\n");
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"decode", required_argument, NULL, 'd'},
	    {"format", required_argument, NULL, 'F'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *decode = NULL;
	enum json_format format = JSON_FORMAT_TYPED;
	int c;

	while ((c = getopt_long(argc, argv, "d:F:hV", options, NULL)) != -1) {
		switch (c) {
		case 'd':
			decode = optarg;
			break;
		case 'F':
			if (json_format_parse(optarg, &format) < 0) {
				fprintf(stderr,
				        "linkyd: unknown format '%s' (expected typed or raw)\n",
				        optarg);
				return EX_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		case 'V':
			printf("linkyd %s\n", LINKYD_VERSION);
			return EX_OK;
		default:
			fprintf(stderr, "Try 'linkyd --help' for more information.\n");
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "linkyd: unexpected argument '%s'\n", argv[optind]);
		return EX_USAGE;
	}
	if (!decode) {
		usage(stderr);
		return EX_USAGE;
	}
	return decode_run(decode, format);
}
