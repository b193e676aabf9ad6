/* SPDX-License-Identifier: MIT */
/* The doctor's output: one line per check, the fix under it, and the verdict last. */
#include <stdarg.h>

#include "doctor.h"

void
report_line(struct doctor_report *r, enum doctor_level level, const char *check, const char *fix,
            const char *fmt, ...)
{
	static const char *const names[] = {
	    [DOCTOR_OK] = "ok", [DOCTOR_WARNING] = "warning", [DOCTOR_PROBLEM] = "problem"};
	va_list ap;

	r->warnings += level == DOCTOR_WARNING;
	r->problems += level == DOCTOR_PROBLEM;
	fprintf(r->out, "%-8s %s: ", names[level], check);
	va_start(ap, fmt);
	vfprintf(r->out, fmt, ap);
	va_end(ap);
	fputc('\n', r->out);
	if (fix)
		fprintf(r->out, "%-8s Fix: %s\n", "", fix);
}

int
report_verdict(struct doctor_report *r)
{
	if (r->problems)
		fprintf(r->out,
		        "verdict: %u problem%s: linkyd cannot work as it is; see the fixes above\n",
		        r->problems, r->problems > 1 ? "s" : "");
	else if (r->warnings)
		fprintf(r->out,
		        "verdict: %u warning%s: linkyd can work; the fixes above may help\n",
		        r->warnings, r->warnings > 1 ? "s" : "");
	else
		fprintf(r->out, "verdict: all good\n");
	fflush(r->out);
	return r->problems ? 1 : 0;
}
