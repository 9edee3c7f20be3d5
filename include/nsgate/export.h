/* Export of one recorded session for other tools (cli.md "nsgate export",
 * recording.md "Replay and export"): asciicast v2, JSON lines, or one
 * self-contained HTML review page.
 *
 * The writers are pure over two callbacks: an event source (the store's
 * event iterator in nsgate, an array in the tests) and an output sink.
 * Memory is constant however long the session is: every event is written as
 * it is read. Functions return 0 or a negative errno (the sink's, or
 * -ENOMEM), never print and never exit.
 *
 * Encoding rules:
 *   - asciicast: data as JSON strings; bytes that are not valid UTF-8 become
 *     U+FFFD (a character split across two events of one stream is kept
 *     whole); 'e' (pipe-mode stderr) becomes "o"; the 'x' event becomes the
 *     marker "exit N"; each 'c' event becomes the marker "$ " followed by
 *     its shell-quoted command line (cmdline.h); 'k' (escrowed masked
 *     input) is left out.
 *   - jsonl: the metadata object, then one object per event with the raw
 *     bytes in base64 (a 'c' event also as the parsed object "command")
 *     and the chain hash stored in the database in hex
 *     (chain.h: recomputable from the previous line's hash, or from the
 *     metadata's header_hash for seq 1). 'k' events are there as stored
 *     (ciphertext, so the chain can be recomputed).
 *     With evidence (in->evidence, export_evidence_load) the stream proves
 *     itself against the root key alone: the metadata gains "header", the
 *     sessions row as stored, [[column, class, value], ...] in schema order
 *     (class "integer": decimal string; "real": the binary64 bits as 16 hex
 *     digits; "text", "blob": base64 of the exact bytes; "null": null), and
 *     after the events come one line {"keychain": {"root": HEX,
 *     "epoch_len_ns": "N"}}, one {"cert": {"epoch", "start_ns", "pk",
 *     "sig"}} per certificate from epoch 0 to the newest a seal uses, and
 *     one {"seal": {"sealno", "seq", "head", "prev_seal", "wall_ns",
 *     "boot_ns", "epoch", "sig"}} per seal: integers as decimal strings,
 *     hashes, keys and signatures as hex; a value of another class than the
 *     store's schema wants is null.
 *   - reveal (in->reveal set, export --reveal): asciicast and html show each
 *     masked 'i' event with the bytes its 'k' box holds instead of stars,
 *     and the stretch's "masked N" marker becomes "masked N, revealed:
 *     TEXT" (TEXT escaped as \xNN where not printable); jsonl adds
 *     "revealed" (base64 of the exact bytes) to each 'k' event. A box that
 *     does not open or is out of its frame ends the export with its error
 *     (reveal.h), never with guessed bytes.
 *   - html: the jsonl export with its evidence inside a <script
 *     type="application/x-ndjson" id="ng-evidence"> element, which the
 *     page's own script (src/export/page.js, with libsodium.js) verifies
 *     against a root key given in the page and plays; with --reveal also
 *     the exporter's asciicast in a <script type="application/json">
 *     element, for the revealed input; JSON with <, >, &, U+2028 and U+2029
 *     written as \uXXXX; metadata and the exporter's verdict as
 *     HTML-escaped text; a CSP whose script-src lists the sha256 of each
 *     inline script. */
#ifndef NSGATE_EXPORT_H
#define NSGATE_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "nsgate/reveal.h"
#include "nsgate/store.h"
#include "nsgate/util.h"
#include "nsgate/verify.h"

enum ng_export_format { NG_EXPORT_ASCIICAST = 0, NG_EXPORT_JSONL, NG_EXPORT_HTML };

/* "asciicast", "jsonl", "html" -> 0 and *ret, or -EINVAL. */
int ng_export_parse_format(const char *name, enum ng_export_format *ret) NG_MUST_CHECK;

/* 1 and *ret filled, 0 at the end, or a negative errno: the signature of
 * ng_store_events_next behind a void pointer. */
typedef int (*ng_export_next_fn)(void *arg, struct ng_event *ret);
/* Write all len bytes or return a negative errno. */
typedef int (*ng_export_write_fn)(void *arg, const void *buf, size_t len);

/* The player embedded in HTML pages: asciinema-player's bundle and style
 * sheet. NUL-free text; the script must not contain "</script". */
struct ng_export_assets {
    const char *js, *css;
    size_t js_len, css_len;
    const char *version;
    /* libsodium.js and libsodium-wrappers' browser builds (the page's
     * verifier): NUL-free text, no "</script" */
    const char *sodium_js, *wrappers_js;
    size_t sodium_js_len, wrappers_js_len;
    const char *sodium_version;
};

/* The session's evidence for a self-proving export (see jsonl above). */
struct ng_export_evidence;
/* Read it from a store opened read-only, with the root key's certificates.
 * -ENOENT: no such session. */
int ng_export_evidence_load(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN],
                            const uint8_t root[32], struct ng_export_evidence **ret) NG_MUST_CHECK;
void ng_export_evidence_free(struct ng_export_evidence *e);

struct ng_export_in {
    const struct ng_session_info *info; /* the session's metadata (untrusted text) */
    const struct ng_verify_result *verdict;
    const uint8_t *root_pk; /* the key verified against (NG_FSKEY_PK_BYTES), or NULL */
    unsigned width, height; /* terminal size: ng_export_first_size */
    ng_export_next_fn next; /* the session's events in seq order */
    void *next_arg;
    /* html only: the session's 'c' events in seq order (the command
     * timeline beside the player), or NULL for none */
    ng_export_next_fn cmd_next;
    void *cmd_arg;
    const struct ng_export_assets *assets; /* html only: NULL for the built-in player */
    const uint8_t *mask_escrow;            /* the session's escrow key (32 bytes), or NULL */
    struct ng_reveal *reveal; /* export --reveal: initialised with the secret, or NULL */
    const struct ng_export_evidence *evidence; /* jsonl, html: or NULL (no header, seals) */
    /* html with reveal: start next_arg's events again from the first (the
     * evidence, then the exporter's revealed asciicast); 0 or -errno */
    int (*restart)(void *next_arg);
};

/* Terminal size for the asciicast header: the first 'r' event "COLSxROWS"
 * found by the source, else 80x24. Reads the whole source (call it on a
 * fresh iterator). 0 or the source's negative errno. */
int ng_export_first_size(ng_export_next_fn next, void *arg, unsigned *cols,
                         unsigned *rows) NG_MUST_CHECK;

int ng_export_write(enum ng_export_format fmt, const struct ng_export_in *in,
                    ng_export_write_fn write, void *warg) NG_MUST_CHECK;

/* The session metadata as a JSON object (the jsonl first line, the page's
 * metadata): new reference, NULL when out of memory. */
struct json_t;
struct json_t *ng_export_meta_json(const struct ng_export_in *in);

/* ---- pieces, exposed for the tests ------------------------------------- */

/* Copy len bytes to out as UTF-8 with each byte that is not part of a valid
 * sequence replaced by U+FFFD (out must hold 3 * len bytes). When hold is
 * not NULL, an incomplete but valid sequence at the end is not written:
 * its length goes to *hold (0..3). Returns the bytes written. */
size_t ng_export_utf8_clean(const uint8_t *in, size_t len, char *out, size_t *hold);

/* JSON text made safe inside an HTML <script> element: <, >, &, U+2028 and
 * U+2029 written as \u003c \u003e \u0026 \u2028 \u2029 (valid only inside
 * JSON strings, which is where a JSON encoder puts such characters). */
int ng_export_json_for_html(const char *json, size_t len, ng_export_write_fn write,
                            void *warg) NG_MUST_CHECK;

/* The CSP source for an inline script: "'sha256-BASE64'" (out: 64 bytes). */
void ng_export_csp_hash(const char *script, size_t len, char out[64]);

/* The page's own script (src/export/page.js: verifies the evidence in the
 * browser, starts the player on it, lists the commands and markers), as
 * embedded; generated with the built-in assets. */
extern const char *const ng_export_page_js;
extern const size_t ng_export_page_js_len;

/* The built-in player (generated at build time from web/node_modules). */
const struct ng_export_assets *ng_export_builtin_assets(void);

#endif
