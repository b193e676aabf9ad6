/* SPDX-License-Identifier: MIT */
/* linkyd --doctor: the checks in a fixed order, on one event loop, then the verdict. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sysexits.h>

#include "doctor.h"
#include "linkyd/doctor.h"

int
doctor_run(const struct linkyd_config *c, const char *where, FILE *out)
{
	struct doctor_report r = {.out = out};
	struct loop *loop = loop_new();

	if (!loop) {
		fprintf(stderr, "linkyd: cannot create the event loop: %s\n", strerror(errno));
		return EX_OSERR;
	}
	signal(SIGPIPE, SIG_IGN);
	report_line(&r, DOCTOR_OK, "configuration", NULL, "%s: %zu meter(s), broker %s", where,
	            c->n_meters, c->mqtt.url);
	for (size_t i = 0; i < c->n_meters; i++) {
		const struct meter_config *m = &c->meters[i];
		struct device_facts dev = {0};
		char sfx[160] = "";

		/* Which meter, when there are several. */
		if (c->n_meters > 1)
			snprintf(sfx, sizeof(sfx), " '%s'", m->name);
		if (m->input.kind == INPUT_SERIAL)
			check_device(&r, sfx, m, &dev);
		check_line(&r, loop, sfx, m, &dev);
	}
	check_broker(&r, loop, c);
	loop_free(loop);
	return report_verdict(&r);
}
