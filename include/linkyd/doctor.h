/* SPDX-License-Identifier: MIT */
/*
 * linkyd --doctor: check a setup the way users' most common failures show (the device, its
 * access, a console or another program on it, the line itself, the broker, Home Assistant),
 * and say each finding in plain words with its fix. It changes nothing. See src/doctor/.
 */
#ifndef LINKYD_DOCTOR_H
#define LINKYD_DOCTOR_H

#include <stdio.h>

#include "linkyd/config.h"

/* Run every check of c, printing one line each and the verdict on out; where says where the
 * configuration came from ("/etc/linkyd.conf", "the defaults"). Returns the exit status: 0 no
 * problem (warnings allowed), 1 a problem at least, or EX_OSERR when the checks could not be set
 * up (after saying why on stderr). */
int doctor_run(const struct linkyd_config *c, const char *where, FILE *out);

#endif
