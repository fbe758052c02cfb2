/*
 * A CSV document built in memory (RFC 4180: fields quoted, quotes doubled,
 * CRLF line ends), for downloads an accountant opens in a spreadsheet. Text
 * that a spreadsheet would run as a formula (starting with = + - @ or a
 * tab/CR) is written with a leading apostrophe, so a value that came from
 * outside (a gateway's statement) cannot become a formula.
 *
 *   struct mc_csv c = {0};
 *   mc_csv_bom(&c);                   // UTF-8 BOM: Excel then reads Vietnamese right
 *   mc_csv_text(&c, "Mã"); mc_csv_int(&c, 10000); mc_csv_end_row(&c);
 *   char *doc = mc_csv_take(&c, &len); // NULL when out of memory
 */
#ifndef MOTCUA_CSV_H
#define MOTCUA_CSV_H

#include <stdbool.h>
#include <stddef.h>

struct mc_csv {
    char *data;
    size_t len, cap;
    bool in_row; /* a field was written on the current line */
    bool failed; /* out of memory: mc_csv_take answers NULL */
};

void mc_csv_bom(struct mc_csv *c);
/* One quoted text field (NULL: an empty field). */
void mc_csv_text(struct mc_csv *c, const char *s);
/* One integer field, unquoted. */
void mc_csv_int(struct mc_csv *c, long long v);
/* Ends the line (an empty line when no field was written). */
void mc_csv_end_row(struct mc_csv *c);
/* The document (malloc'd, NUL-terminated, the caller frees) and its length;
   NULL (everything freed) when building it ran out of memory. */
char *mc_csv_take(struct mc_csv *c, size_t *len);

#endif
