/* SPDX-License-Identifier: MIT */
/* placeholder while config.c is being written */
#include <errno.h>

#include "linkyd/config.h"

int
config_init(struct linkyd_config *c)
{
	(void) c;
	return -ENOSYS;
}

int
config_load(struct linkyd_config *c, const char *path, char *err, size_t err_size)
{
	(void) c, (void) path, (void) err, (void) err_size;
	return -ENOSYS;
}

int
config_set_inputs(struct linkyd_config *c, char *const *specs, size_t n, char *err,
		  size_t err_size)
{
	(void) c, (void) specs, (void) n, (void) err, (void) err_size;
	return -ENOSYS;
}

int
config_validate(const struct linkyd_config *c, char *err, size_t err_size)
{
	(void) c, (void) err, (void) err_size;
	return -ENOSYS;
}

void
config_print(const struct linkyd_config *c, FILE *out)
{
	(void) c, (void) out;
}

void
config_done(struct linkyd_config *c)
{
	(void) c;
}
