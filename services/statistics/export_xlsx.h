/*
 * Report 06a as an XLSX workbook in the form's layout (merged group headers
 * over their columns), written with Debian's libxlsxwriter into a temporary
 * file that is unlinked at once and streamed from its descriptor.
 */
#ifndef STATISTICS_EXPORT_XLSX_H
#define STATISTICS_EXPORT_XLSX_H

#include <jansson.h>

#include "motcua/error.h"

/* Write `report` (the JSON answer of GET /reports/06a) as XLSX: *fd is an
   open, already unlinked file of *size bytes (the caller closes it). */
mc_error stat_06a_xlsx(const json_t *report, int *fd, unsigned long long *size);

#endif
