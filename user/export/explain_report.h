/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* explain_report.h - "where RSS goes" (model/explain.h) as text and JSON. */
#ifndef MEMSIGHT_EXPLAIN_REPORT_H
#define MEMSIGHT_EXPLAIN_REPORT_H

#include <stdio.h>

#include "common/json.h"
#include "model/explain.h"
#include "model/model.h"

void explain__text(const struct explain *e, const struct ms_profile *p, FILE *out);
void explain__json(const struct explain *e, const struct ms_profile *p, struct json_writer *w);

#endif /* MEMSIGHT_EXPLAIN_REPORT_H */
