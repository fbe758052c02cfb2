/*
 * The pure rules of a dossier's documents (no I/O, tested by
 * tests/unit/test_document_rules.c): who may upload when, which slots exist,
 * which files are taken (declared and sniffed media types, file names) and
 * how a file name goes back out in Content-Disposition. The handlers are in
 * handle_documents.c.
 */
#ifndef DOSSIER_DOCUMENT_RULES_H
#define DOSSIER_DOCUMENT_RULES_H

#include <stdbool.h>
#include <stddef.h>

#define DOCUMENT_EXTRA_SLOTS 20    /* "extra-1" .. "extra-20" */
#define DOCUMENT_FILE_NAME_MAX 255 /* code points */

/* Who may upload in which status, and the kind of document it becomes. A
   caller whose kinds may upload in none of these statuses gets 403; one that
   may, but not in the dossier's current status, gets 409. */
struct document_upload_rule {
    int status;
    unsigned actors;
    const char *kind;
    bool result_slot; /* only the "result" slot; else the case's and extra slots */
};

/* The rule that lets `actors` upload to a dossier in `status`, or NULL; in
   both cases `ever` tells whether they may upload in some status at all. */
const struct document_upload_rule *document_upload_rule_for(int status, unsigned actors,
                                                            bool *ever);

/* Slot names as the catalogue writes document codes (ItemCode): 1..64
   characters, alphanumeric first, then alphanumerics, '.', '_' and '-'; so
   "." and ".." are never slots. */
bool document_slot_syntax_ok(const char *slot);

/* "extra-1" .. "extra-20", without leading zeros. */
bool document_is_extra_slot(const char *slot);

/* The media type of a Content-Type header in lowercase, without parameters,
   if it is one we take (PDF, JPEG, PNG); else NULL. */
const char *document_accepted_media_type(const char *content_type);

/* The accepted media type the bytes start as (PDF "%PDF-", JPEG SOI and a
   marker FF D8 FF, the 8-byte PNG signature), or NULL. The three signatures
   exclude each other. */
const char *document_sniffed_media_type(const unsigned char *p, size_t len);

/* Is the Content-Type application/octet-stream (what browsers send for a
   file whose type they do not know)? */
bool document_is_octet_stream(const char *content_type);

/* Code points that make a file name lie about itself when shown: C1
   controls, and the bidirectional overrides and isolates (U+202A..U+202E,
   U+2066..U+2069) that turn "gpj.exe" around. s is valid UTF-8. */
bool document_has_deceptive_code_points(const char *s);

/* A file name as given (valid UTF-8), checked: 1..255 code points once
   surrounding spaces are trimmed, no path separators, not "." or "..", no
   deceptive code points. Writes the trimmed name into out and answers NULL;
   else the problem's code ("required", "max_length", "path",
   "control_characters") with a sentence for the client in *detail. */
const char *document_file_name_problem(const char *raw, char *out, size_t out_len,
                                       const char **detail);

/* The Content-Disposition of a download:
   attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>
   (RFC 6266 / RFC 8187). The fallback has one '_' per non-ASCII character
   and for '"', '\', '%' and controls. name is a checked file name. */
void document_content_disposition(const char *name, char *out, size_t len);

#endif
