/* SPDX-License-Identifier: MIT */
/* The sources linkyd can read, by input kind: adding one is a row here and its own file. */
#include <errno.h>

#include "linkyd/source.h"

int
source_new(struct loop *loop, const struct meter_config *m, struct source **ret)
{
	switch (m->input.kind) {
	case INPUT_SERIAL:
		return source_serial_new(m, ret);
	case INPUT_TCP:
		return source_tcp_new(m->input.host, m->input.port, ret);
	case INPUT_D2L:
		return source_d2l_new(loop, m, ret);
	}
	return -EINVAL;
}

struct source *
source_free(struct source *s)
{
	if (s)
		s->ops->free(s);
	return NULL;
}
