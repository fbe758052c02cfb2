/*
 * Dossier codes (mã số hồ sơ, Circular 01/2018/TT-VPCP art. 19): the
 * receiving agency's code, the receiving date as YYMMDD, and a sequence
 * within that agency and day of at least four digits:
 * 000.00.06.H56-231027-0361. The sequence itself comes from the store
 * (a per agency-and-day counter row); this module only formats and parses.
 */
#ifndef DOSSIER_CODE_H
#define DOSSIER_CODE_H

#include <stdbool.h>
#include <stddef.h>

#include "motcua/calendar.h"

#define DOSSIER_CODE_MAX 64

/* Write the code for agency, local date and sequence (1..99999999). Returns
   false when the inputs cannot make a valid code (empty agency, bad date,
   sequence out of range, or the buffer is too small). */
bool dossier_code_format(char *out, size_t out_len, const char *agency, mc_date day, long sequence);

/* Is `code` shaped like a dossier code (agency-YYMMDD-NNNN+)? Used to tell a
   code from a UUID in GET /dossiers/{id_or_code}. */
bool dossier_code_is_valid(const char *code);

/* Is s a dossier id (a UUID in its 36-character text form)? */
bool dossier_id_is_valid(const char *s);

#endif
