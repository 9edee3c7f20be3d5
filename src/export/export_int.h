/* Internals shared by export.c and export_html.c. */
#ifndef NSGATE_EXPORT_INT_H
#define NSGATE_EXPORT_INT_H

#include <jansson.h>

#include "nsgate/export.h"

/* ASCII only: no control, C1, U+2028 or U+2029 character leaves raw; reals
 * with enough digits for microseconds over any session length. */
#define NG_EXPORT_JSON_FLAGS (JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15))

/* Untrusted bytes as a JSON string (invalid UTF-8 -> U+FFFD); json_null
 * for NULL; NULL when out of memory. */
json_t *ng_export_jstr(const void *p, size_t len);
json_t *ng_export_seconds(int64_t ns);
/* Dump j (not stolen) through write; html: escaped for a <script> element. */
int ng_export_dump(json_t *j, int html, ng_export_write_fn write, void *warg);
/* "COLSxROWS" -> 0, or -EINVAL. */
int ng_export_parse_size(const uint8_t *p, size_t len, unsigned *cols, unsigned *rows);
json_t *ng_export_cast_header(const struct ng_export_in *in);
json_t *ng_export_verdict_marker(const struct ng_export_in *in);
/* The asciicast events (verdict marker first unless OK); html: as the
 * elements of a JSON array, escaped for the page. */
int ng_export_cast_events(const struct ng_export_in *in, int html, ng_export_write_fn write,
                          void *warg);
/* The evidence's "header" for the metadata (new reference; NULL for none)
 * and its lines after the events (html: escaped for the page). */
json_t *ng_export_evidence_header(const struct ng_export_evidence *e);
int ng_export_evidence_tail(const struct ng_export_evidence *e, int html, ng_export_write_fn write,
                            void *warg);
/* The sessions row of id as the evidence carries it: [[name, class,
 * value], ...] (export.h). -ENOENT when there is none. */
int ng_export_header_json(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN], json_t **ret);
/* The same bytes as base64 and hex JSON strings (NULL when out of memory). */
json_t *ng_export_b64(const void *p, size_t len);
json_t *ng_export_hex(const void *p, size_t len);
/* The jsonl lines of in: metadata, events, the evidence's tail. */
int ng_export_jsonl_lines(const struct ng_export_in *in, int html, ng_export_write_fn write,
                          void *warg);
int ng_export_html(const struct ng_export_in *in, ng_export_write_fn write, void *warg);
/* A 'c' event for a reader (the asciicast marker, the page's command list):
 * an object {t, pid, uid, line, verified[, error][, truncated]} with line
 * the shell-quoted, terminal-safe command line; NULL when the event cannot
 * be read (or out of memory). t is the event's own offset (ev->t_ns), the
 * one the player seeks to. */
json_t *ng_export_command(const struct ng_event *ev);

#endif
