/* The HTML review page (cli.md "nsgate export", security.md "Recording and
 * review"). One file that opens from disk with no network: the player's
 * script and style sheet, libsodium.js and the page's own script
 * (page.js) are embedded; the session's evidence (the jsonl export with
 * its header row, seals and certificates) sits in a <script
 * type="application/x-ndjson"> element as escaped JSON lines, which the
 * page verifies itself against a root key the reviewer gives and then
 * plays; metadata and the exporter's verdict are HTML-escaped text (never
 * markup, never attributes), and a CSP allows exactly the inline scripts
 * whose sha256 it lists. */
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "export_int.h"
#include "nsgate/fskey.h"
#include "nsgate/text.h"
#include "nsgate/timearg.h"
#include "nsgate/uuid.h"

static const char page_css[] =
    "body{font-family:sans-serif;margin:1.5em;color:#222;background:#fafafa}"
    "h1{font-size:1.3em}h2{font-size:1.1em}"
    "#verification{padding:.6em 1em;border:2px solid;font-weight:bold}"
    "#verification.ok{color:#060;border-color:#060;background:#efe}"
    "#verification.incomplete{color:#850;border-color:#850;background:#ffe}"
    "#verification.tampered{color:#c00;border-color:#c00;background:#fee;font-size:1.2em}"
    "#metadata th{text-align:left;padding-right:1em;vertical-align:top}"
    "#metadata td{font-family:monospace;white-space:pre-wrap;word-break:break-all}"
    "#review{display:flex;gap:1em;align-items:flex-start;margin:1em 0}"
    "#player{flex:3 1 0;min-width:0;max-width:100em}"
    "#commands-panel{flex:2 1 0;min-width:16em;max-height:80vh;overflow:auto;"
    "border-left:2px solid #ccc;padding-left:.8em}"
    "#commands-panel h2{margin-top:0}"
    "#commands{font-family:monospace;padding-left:1.5em}"
    "#commands li{margin-bottom:.3em;word-break:break-all}"
    "#commands li.failed code{color:#a00}"
    "#commands .info{color:#666;font-size:.85em}"
    "#commands button,#markers button{margin-right:.5em}"
    "#markers{font-family:monospace}"
    "#ng-browser{margin:.6em 0;padding:.6em 1em;border:2px dashed #888}"
    "#ng-browser-verdict{font-weight:bold;margin:0 0 .4em 0}"
    "#ng-browser-verdict.ok{color:#060}#ng-browser-verdict.incomplete{color:#850}"
    "#ng-browser-verdict.tampered{color:#c00;font-size:1.2em}"
    "#ng-key{font-family:monospace;width:40em;max-width:90%}"
    "#ng-verified-header{margin-top:.5em}#ng-verified-header th{text-align:left;padding-right:1em}"
    "#ng-verified-header td{font-family:monospace;white-space:pre-wrap;word-break:break-all}";

/* ---- text -------------------------------------------------------------- */

struct out {
    ng_export_write_fn write;
    void *warg;
    int err;
    int rows; /* metadata rows opened */
};

static void put(struct out *o, const char *s, size_t len)
{
    if (o->err == 0)
        o->err = o->write(o->warg, s, len);
}

static void puts0(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* Untrusted bytes as HTML text: control characters and invalid UTF-8 as
 * \xNN (cli.md "Untrusted text"), then the five HTML specials as entities. */
static void text(struct out *o, const char *s, size_t len)
{
    char *e = ng_escape(s ? s : "-", s ? len : 1);
    size_t run = 0;

    if (!e) {
        o->err = o->err ? o->err : -ENOMEM;
        return;
    }
    for (size_t i = 0; e[i]; i++) {
        const char *ent = NULL;
        switch (e[i]) {
        case '&':
            ent = "&amp;";
            break;
        case '<':
            ent = "&lt;";
            break;
        case '>':
            ent = "&gt;";
            break;
        case '"':
            ent = "&quot;";
            break;
        case '\'':
            ent = "&#39;";
            break;
        default:
            continue;
        }
        put(o, e + run, i - run);
        puts0(o, ent);
        run = i + 1;
    }
    put(o, e + run, strlen(e + run));
    free(e);
}

static void text0(struct out *o, const char *s)
{
    text(o, s, s ? strlen(s) : 0);
}

static void textf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void textf(struct out *o, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n >= 0)
        text(o, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* ---- pieces -------------------------------------------------------------- */

int ng_export_json_for_html(const char *json, size_t len, ng_export_write_fn write, void *warg)
{
    size_t run = 0;
    int r = 0;

    for (size_t i = 0; i < len && r == 0; i++) {
        const char *rep = NULL;
        size_t skip = 1;
        if (json[i] == '<')
            rep = "\\u003c";
        else if (json[i] == '>')
            rep = "\\u003e";
        else if (json[i] == '&')
            rep = "\\u0026";
        else if ((unsigned char)json[i] == 0xe2 && i + 2 < len &&
                 (unsigned char)json[i + 1] == 0x80 &&
                 ((unsigned char)json[i + 2] == 0xa8 || (unsigned char)json[i + 2] == 0xa9)) {
            rep = (unsigned char)json[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
            skip = 3;
        }
        if (!rep)
            continue;
        r = write(warg, json + run, i - run);
        if (r == 0)
            r = write(warg, rep, 6);
        i += skip - 1;
        run = i + 1;
    }
    return r ? r : write(warg, json + run, len - run);
}

void ng_export_csp_hash(const char *script, size_t len, char out[64])
{
    uint8_t h[crypto_hash_sha256_BYTES];
    char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES, sodium_base64_VARIANT_ORIGINAL)];

    crypto_hash_sha256(h, (const unsigned char *)script, len);
    sodium_bin2base64(b64, sizeof(b64), h, sizeof(h), sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, 64, "'sha256-%s'", b64);
}

static void csp_hash(struct out *o, const char *script, size_t len)
{
    char h[64];

    ng_export_csp_hash(script, len, h);
    puts0(o, h);
    puts0(o, " ");
}

static void head(struct out *o, const struct ng_export_in *in, const struct ng_export_assets *a)
{
    char id[NG_UUID_STR];

    ng_uuid_format(in->info->id, id);
    puts0(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
             "script-src ");
    csp_hash(o, a->js, a->js_len);
    csp_hash(o, a->sodium_js, a->sodium_js_len);
    csp_hash(o, a->wrappers_js, a->wrappers_js_len);
    csp_hash(o, ng_export_page_js, ng_export_page_js_len);
    puts0(o, "'wasm-unsafe-eval'; style-src 'unsafe-inline'; img-src data:; font-src data:\">\n"
             "<meta name=\"referrer\" content=\"no-referrer\">\n<title>nsgate session ");
    puts0(o, id);
    puts0(o, "</title>\n<style>\n");
    put(o, a->css, a->css_len);
    puts0(o, "\n</style>\n<style>");
    puts0(o, page_css);
    puts0(o, "</style>\n</head>\n<body>\n<h1>nsgate session ");
    puts0(o, id);
    puts0(o, "</h1>\n");
}

static void verdict(struct out *o, const struct ng_export_in *in)
{
    const struct ng_verify_result *v = in->verdict;
    char hex[2 * NG_FSKEY_PK_BYTES + 1] = "";

    if (in->root_pk)
        sodium_bin2hex(hex, sizeof(hex), in->root_pk, NG_FSKEY_PK_BYTES);
    hex[16] = '\0';
    if (!v) {
        puts0(o, "<p id=\"verification\" class=\"incomplete\">Not verified.</p>\n");
    } else if (v->word == NG_VERIFY_OK) {
        puts0(o, "<p id=\"verification\" class=\"ok\">");
        textf(o, "Verification: OK, %lld events, sealed (root key %s)", (long long)v->events, hex);
    } else if (v->word == NG_VERIFY_INCOMPLETE) {
        puts0(o, "<p id=\"verification\" class=\"incomplete\">");
        textf(o,
              "Verification: INCOMPLETE, %lld events, sealed up to %lld: what follows is "
              "not proven (root key %s)",
              (long long)v->events, (long long)(v->sealed < 0 ? 0 : v->sealed), hex);
    } else {
        puts0(o, "<p id=\"verification\" class=\"tampered\">");
        textf(o, "Verification: TAMPERED at seq=%lld: ", (long long)v->seq);
        text0(o, v->what);
        textf(o, ". Exported with --force: do not trust this recording (root key %s)", hex);
    }
    if (v)
        puts0(o, "</p>\n");
}

static void row(struct out *o, const char *name)
{
    if (o->rows++)
        puts0(o, "</td></tr>\n");
    puts0(o, "<tr><th>");
    puts0(o, name);
    puts0(o, "</th><td>");
}

static void argv_text(struct out *o, const char *argv, size_t len)
{
    for (size_t i = 0; argv && i < len;) {
        const char *nul = memchr(argv + i, '\0', len - i);
        size_t n = nul ? (size_t)(nul - (argv + i)) : len - i;
        if (i)
            puts0(o, " ");
        text(o, argv + i, n);
        i += n + 1;
    }
}

static void metadata(struct out *o, const struct ng_session_info *s)
{
    char t[48], ns[96];

    puts0(o, "<table id=\"metadata\">\n");
    row(o, "user");
    text0(o, s->user_name);
    textf(o, " (uid %lld, gid %lld)", (long long)s->uid, (long long)s->gid);
    row(o, "host");
    text0(o, s->host);
    row(o, "start");
    ng_format_time_utc(s->start_ns, t, sizeof(t));
    text0(o, t);
    row(o, "end");
    if (s->has_end)
        ng_format_time_utc(s->end_ns, t, sizeof(t));
    text0(o, s->has_end ? t : "- (no end recorded)");
    row(o, "target");
    textf(o, "pid %lld", (long long)s->target_pid);
    if (s->container) {
        puts0(o, ", container ");
        text0(o, s->container);
    }
    row(o, "namespaces");
    ng_nsset_format(s->ns, ns, sizeof(ns));
    text0(o, ns);
    row(o, "command");
    argv_text(o, s->argv, s->argv_len);
    row(o, "reason");
    text0(o, s->reason);
    row(o, "rule");
    text0(o, s->rule);
    row(o, "exit");
    if (s->has_end) {
        textf(o, "%d (", s->exit_status);
        text0(o, s->end_reason);
        puts0(o, ")");
    } else {
        puts0(o, "-");
    }
    row(o, "terminal");
    text0(o, s->pty ? "pty" : "pipes");
    if (s->tty) {
        puts0(o, ", caller on ");
        text0(o, s->tty);
    }
    row(o, "input recorded");
    text0(o, s->record_input ? "yes" : "no");
    row(o, "commands");
    if (s->record_commands == 0)
        text0(o, "not recorded (record_commands = no)");
    else if (s->record_commands < 0)
        text0(o, "not recorded (recorded by an older nsgate)");
    else
        textf(o, "%lld recorded", (long long)s->commands);
    row(o, "state");
    textf(o, "%s, %lld events", ng_store_state_name(s->state), (long long)s->last_seq);
    puts0(o, "</td></tr>\n</table>\n");
}

/* ---- the page ---------------------------------------------------------- */

/* HTML ends a script or style element at its end tag in any case. */
static int contains_ci(const char *s, size_t len, const char *needle)
{
    size_t n = strlen(needle);

    for (size_t i = 0; i + n <= len; i++)
        if (strncasecmp(s + i, needle, n) == 0)
            return 1;
    return 0;
}

/* The command timeline: the 'c' events as ng_export_command objects. */
static int commands(struct out *o, const struct ng_export_in *in)
{
    struct ng_event ev;
    int r = 0, n = 0;

    puts0(o, ",\"commands\":[");
    while (o->err == 0 && in->cmd_next && (r = in->cmd_next(in->cmd_arg, &ev)) == 1) {
        json_t *c = ng_export_command(&ev);
        if (!c)
            continue; /* unreadable: the verdict and jsonl still show it */
        puts0(o, n++ ? ",\n" : "\n");
        if (o->err == 0)
            o->err = ng_export_dump(c, 1, o->write, o->warg);
        json_decref(c);
    }
    if (r < 0 && o->err == 0)
        o->err = r;
    puts0(o, "]");
    return o->err;
}

/* The exporter's asciicast (--reveal only: the revealed input is the
 * exporter's word, not part of the evidence). */
static int recording(struct out *o, const struct ng_export_in *in)
{
    json_t *h = ng_export_cast_header(in);

    puts0(o, "<script type=\"application/json\" id=\"nsgate-cast\">{\"header\":");
    if (o->err == 0)
        o->err = ng_export_dump(h, 1, o->write, o->warg);
    json_decref(h);
    puts0(o, ",\"events\":[");
    if (o->err == 0)
        o->err = ng_export_cast_events(in, 1, o->write, o->warg);
    puts0(o, "\n]");
    if (o->err == 0)
        commands(o, in);
    puts0(o, "}</script>\n");
    return o->err;
}

/* The page's own verdict: filled in by page.js. */
static const char browser_block[] =
    "<div id=\"ng-browser\"><p id=\"ng-browser-verdict\">Not checked in this browser yet "
    "(the page's script checks the evidence below against the root key given here or in "
    "the address as #key=HEX).</p>\n"
    "<form id=\"ng-key-form\"><label>Root public key (64 hex digits): "
    "<input id=\"ng-key\" name=\"key\" autocomplete=\"off\" spellcheck=\"false\" "
    "maxlength=\"64\"></label> <button type=\"submit\">Verify here</button></form>\n"
    "<table id=\"ng-verified-header\" hidden></table></div>\n";

static int unsafe_script(const char *s, size_t len)
{
    return !s || contains_ci(s, len, "</script") || contains_ci(s, len, "<!--");
}

/* The evidence as jsonl has it without --reveal: what the reveal opened
 * is not evidence (the page shows it from the exporter's asciicast). */
static int evidence(const struct ng_export_in *in, ng_export_write_fn write, void *warg)
{
    struct ng_export_in plain = *in;

    plain.reveal = NULL;
    return ng_export_jsonl_lines(&plain, 1, write, warg);
}

/* The embedded scripts, each in its own element (one CSP hash each). */
static void scripts(struct out *o, const struct ng_export_assets *a)
{
    const char *js[] = {a->js, a->sodium_js, a->wrappers_js, ng_export_page_js};
    size_t len[] = {a->js_len, a->sodium_js_len, a->wrappers_js_len, ng_export_page_js_len};

    for (size_t i = 0; i < NG_ARRAY_SIZE(js); i++) {
        puts0(o, "<script>");
        put(o, js[i], len[i]);
        puts0(o, "</script>\n");
    }
}

int ng_export_html(const struct ng_export_in *in, ng_export_write_fn write, void *warg)
{
    const struct ng_export_assets *a = in->assets ? in->assets : ng_export_builtin_assets();
    struct out o = {write, warg, 0, 0};

    /* The page could not be what it claims: nothing is written. */
    if (!a || !a->css || unsafe_script(a->js, a->js_len) ||
        unsafe_script(a->sodium_js, a->sodium_js_len) ||
        unsafe_script(a->wrappers_js, a->wrappers_js_len) ||
        unsafe_script(ng_export_page_js, ng_export_page_js_len) ||
        contains_ci(a->css, a->css_len, "</style"))
        return -ENOTSUP;
    head(&o, in, a);
    verdict(&o, in);
    puts0(&o, browser_block);
    metadata(&o, in->info);
    puts0(&o, "<div id=\"review\"><div id=\"player\"></div>\n"
              "<div id=\"commands-panel\"><h2>Commands (<span id=\"commands-count\">-</span>)"
              "</h2>\n<ol id=\"commands\"></ol></div></div>\n"
              "<noscript>The player and the verifier need JavaScript; the evidence "
              "is in the element ng-evidence of this page (JSON lines, as export -f jsonl "
              "writes them).</noscript>\n"
              "<h2>Markers</h2>\n<ol id=\"markers\"></ol>\n"
              "<script type=\"application/x-ndjson\" id=\"ng-evidence\">\n");
    if (o.err == 0)
        o.err = evidence(in, write, warg);
    puts0(&o, "</script>\n");
    if (o.err == 0 && in->reveal)
        o.err = in->restart ? in->restart(in->next_arg) : -EINVAL;
    if (o.err == 0 && in->reveal)
        recording(&o, in);
    scripts(&o, a);
    puts0(&o, "</body>\n</html>\n");
    return o.err;
}
