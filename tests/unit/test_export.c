/* Export writers over an in-memory event source: asciicast escaping and
 * U+FFFD, jsonl base64 and hashes, the HTML page's escaping and CSP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "nsgate/export.h"

struct src {
    const struct ng_event *ev;
    size_t n, i;
};

static int src_next(void *arg, struct ng_event *ret)
{
    struct src *s = arg;

    if (s->i == s->n)
        return 0;
    *ret = s->ev[s->i++];
    return 1;
}

struct buf {
    char *p;
    size_t len, cap;
};

static int buf_write(void *arg, const void *data, size_t len)
{
    struct buf *b = arg;

    if (b->len + len + 1 > b->cap) {
        b->cap = (b->len + len + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
    return 0;
}

#define EV(seq, ms, k, s)                                                                          \
    {                                                                                              \
        seq, (int64_t)(ms)*1000000, k, (const uint8_t *)(s), sizeof(s) - 1, hash, 32               \
    }
static const uint8_t hash[32] = {0xab, 1, 2, 3};
static const char exit_json[] = "{\"end_ns\":5,\"exit\":3,\"reason\":\"exit\"}";

static const struct ng_event events[] = {
    EV(1, 0, 'r', "100x30"),
    EV(2, 10, 'o', "a\xe2\x82"), /* the euro sign cut in two events */
    EV(3, 20, 'o', "\xac\xff</script><script>alert(1)</script>\n"),
    EV(4, 30, 'e', "err\r\n"),
    EV(5, 40, 'i', "ls\r"),
    EV(6, 50, 'o', "\xe2\x80\xa8\xe2\x80\xa9\x1b]52;c;SGVsbG8=\a\x1b[6n\xed\xa0\x80"),
    {7, 60000000, 'x', (const uint8_t *)exit_json, sizeof(exit_json) - 1, hash, 32},
};

static struct ng_session_info info(int pty)
{
    static const char argv[] = "/bin/sh\0-c\0echo </script><script>alert(1)</script>";
    struct ng_session_info s = {
        .id = {0x12, 0x34},
        .start_ns = 1700000000000000000LL,
        .host = "host",
        .user_name = "al</script><script>alert(1)</script>ice",
        .reason = "ticket \xe2\x80\xa8 <b>bold</b> & \x1b[31m",
        .rule = "rule",
        .argv = argv,
        .argv_len = sizeof(argv) - 1,
        .pty = pty,
        .has_end = 1,
        .exit_status = 3,
        .end_reason = "exit",
        .last_seq = 7,
    };
    return s;
}

static char *run(enum ng_export_format fmt, int pty, enum ng_verify_word word,
                 const struct ng_export_assets *assets, int *ret)
{
    struct ng_session_info si = info(pty);
    struct ng_verify_result v = {.word = word, .events = 7, .sealed = 7, .seq = 4};
    struct src s = {events, NG_ARRAY_SIZE(events), 0};
    struct buf b = {0};
    struct ng_export_in in = {.info = &si, .verdict = &v, .assets = assets};

    strcpy(v.what, "event <hash> differs");
    assert_int_equal(ng_export_first_size(src_next, &s, &in.width, &in.height), 0);
    s.i = 0;
    in.next = src_next;
    in.next_arg = &s;
    *ret = ng_export_write(fmt, &in, buf_write, &b);
    return b.p;
}

static void test_utf8_clean(void **state)
{
    char out[64];
    size_t hold, n;

    n = ng_export_utf8_clean((const uint8_t *)"a\xff"
                                              "b\xc0\x80\xed\xa0\x80\xf4\x90\x80\x80",
                             12, out, NULL);
    /* overlong, surrogate, above U+10FFFF: one U+FFFD per byte */
    assert_int_equal(n, 1 + 3 + 1 + 3 * (2 + 3 + 4));
    assert_memory_equal(out,
                        "a\xef\xbf\xbd"
                        "b\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
                        14);
    n = ng_export_utf8_clean((const uint8_t *)"x\xf0\x9f\x98", 4, out, &hold);
    assert_int_equal(n, 1);
    assert_int_equal(hold, 3);
    n = ng_export_utf8_clean((const uint8_t *)"x\xf0\x9f\x98", 4, out, NULL);
    assert_int_equal(n, 4); /* a cut character at the very end: one U+FFFD */
    n = ng_export_utf8_clean((const uint8_t *)"\xe2\x82\xac\0", 4, out, &hold);
    assert_int_equal(n, 4);
    assert_int_equal(hold, 0);
}

static json_t *line(char **p)
{
    char *nl = strchr(*p, '\n');
    json_error_t err;

    assert_non_null(nl);
    json_t *j = json_loadb(*p, (size_t)(nl - *p), 0, &err);
    assert_non_null(j);
    *p = nl + 1;
    return j;
}

static void check_event(char **p, double t, const char *code, const char *data)
{
    json_t *e = line(p);

    assert_true(json_is_array(e) && json_array_size(e) == 3);
    assert_true(json_real_value(json_array_get(e, 0)) - t < 1e-9 &&
                t - json_real_value(json_array_get(e, 0)) < 1e-9);
    assert_string_equal(json_string_value(json_array_get(e, 1)), code);
    assert_int_equal(json_string_length(json_array_get(e, 2)), strlen(data));
    assert_string_equal(json_string_value(json_array_get(e, 2)), data);
    json_decref(e);
}

static void test_asciicast(void **state)
{
    int r;
    char *text = run(NG_EXPORT_ASCIICAST, 0, NG_VERIFY_OK, NULL, &r), *p = text;

    assert_int_equal(r, 0);
    for (char *c = text; *c; c++) /* ASCII only: escapes for everything else */
        assert_true(*c >= 0x20 && *c < 0x7f ? 1 : *c == '\n');
    json_t *h = line(&p);
    assert_int_equal(json_integer_value(json_object_get(h, "version")), 2);
    assert_int_equal(json_integer_value(json_object_get(h, "width")), 100);
    assert_int_equal(json_integer_value(json_object_get(h, "height")), 30);
    assert_int_equal(json_integer_value(json_object_get(h, "timestamp")), 1700000000);
    json_decref(h);
    check_event(&p, 0, "r", "100x30");
    check_event(&p, 0.010, "o", "a");
    /* pipe mode: LF shown as CR LF; the cut euro sign whole; 0xff -> U+FFFD */
    check_event(&p, 0.020, "o", "\xe2\x82\xac\xef\xbf\xbd</script><script>alert(1)</script>\r\n");
    check_event(&p, 0.030, "o", "err\r\n");
    check_event(&p, 0.040, "i", "ls\r");
    check_event(
        &p, 0.050, "o",
        "\xe2\x80\xa8\xe2\x80\xa9\x1b]52;c;SGVsbG8=\a\x1b[6n\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    check_event(&p, 0.060, "m", "exit 3");
    assert_string_equal(p, "");
    free(text);

    /* a terminal session keeps its bytes; tampered: title and first marker */
    text = run(NG_EXPORT_ASCIICAST, 1, NG_VERIFY_TAMPERED, NULL, &r);
    p = text;
    h = line(&p);
    assert_memory_equal(json_string_value(json_object_get(h, "title")), "TAMPERED: ", 10);
    json_decref(h);
    check_event(&p, 0, "m", "TAMPERED at seq=4: event <hash> differs");
    check_event(&p, 0, "r", "100x30");
    check_event(&p, 0.010, "o", "a");
    check_event(&p, 0.020, "o", "\xe2\x82\xac\xef\xbf\xbd</script><script>alert(1)</script>\n");
    free(text);
}

static void test_jsonl(void **state)
{
    int r;
    char *text = run(NG_EXPORT_JSONL, 0, NG_VERIFY_OK, NULL, &r), *p = text;
    uint8_t bin[256];
    char hex[65];
    size_t n;

    assert_int_equal(r, 0);
    json_t *m = line(&p);
    assert_string_equal(json_string_value(json_object_get(m, "user")),
                        "al</script><script>alert(1)</script>ice");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(m, "verification"), "result")), "OK");
    assert_int_equal(json_array_size(json_object_get(m, "argv")), 3);
    json_decref(m);
    sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
    for (size_t i = 0; i < NG_ARRAY_SIZE(events); i++) {
        json_t *e = line(&p);
        const char *b64 = json_string_value(json_object_get(e, "data"));
        assert_int_equal(json_integer_value(json_object_get(e, "seq")), events[i].seq);
        assert_int_equal(json_integer_value(json_object_get(e, "t_ns")), events[i].t_ns);
        assert_int_equal(json_string_value(json_object_get(e, "kind"))[0], events[i].kind);
        assert_int_equal(sodium_base642bin(bin, sizeof(bin), b64, strlen(b64), NULL, &n, NULL,
                                           sodium_base64_VARIANT_ORIGINAL),
                         0);
        assert_int_equal(n, events[i].len); /* exact bytes, invalid UTF-8 included */
        assert_memory_equal(bin, events[i].data, n);
        assert_string_equal(json_string_value(json_object_get(e, "hash")), hex);
        json_decref(e);
    }
    assert_string_equal(p, "");
    free(text);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static const char fake_js[] = "window.AsciinemaPlayer = { create: function () { return {}; } };";
static const char fake_css[] = ".ap-player { color: red }";
static const char fake_sodium[] = "window.libsodium = {};";
static const char fake_wrappers[] = "window.sodium = { ready: new Promise(function () {}) };";
static const struct ng_export_assets fake = {
    fake_js,     fake_css,      sizeof(fake_js) - 1,     sizeof(fake_css) - 1,      "0",
    fake_sodium, fake_wrappers, sizeof(fake_sodium) - 1, sizeof(fake_wrappers) - 1, "0"};

/* The text of the n-th (0-based) <script ...>...</script> element. */
static char *script_body(const char *page, int n)
{
    const char *p = page;

    for (int i = 0; i <= n; i++) {
        p = strstr(p, "<script");
        assert_non_null(p);
        p++;
    }
    p = strchr(p, '>') + 1;
    const char *end = strstr(p, "</script>");
    assert_non_null(end);
    return strndup(p, (size_t)(end - p));
}

static void test_html(void **state)
{
    int r;
    char *page = run(NG_EXPORT_HTML, 1, NG_VERIFY_OK, &fake, &r);
    char h[64], csp[512];

    assert_int_equal(r, 0);
    /* five script elements and no more: the evidence, the player, libsodium,
     * its wrappers, the page's own */
    assert_int_equal(count(page, "<script"), 5);
    assert_int_equal(count(page, "</script"), 5);
    assert_non_null(strstr(page, "<script type=\"application/x-ndjson\" id=\"ng-evidence\">"));
    assert_non_null(strstr(page, "<p id=\"ng-browser-verdict\">"));
    assert_null(strstr(page, "<b>"));
    assert_non_null(strstr(page, "al&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;ice"));
    assert_non_null(strstr(page, "&lt;b&gt;bold&lt;/b&gt; &amp; \\x1b[31m"));

    char *data = script_body(page, 0), *player = script_body(page, 1);
    char *sod = script_body(page, 2), *wrap = script_body(page, 3), *own = script_body(page, 4);
    assert_null(strstr(data, "\xe2\x80\xa8"));
    assert_null(strstr(data, "\xe2\x80\xa9"));
    assert_null(strchr(data, '<'));
    assert_null(strchr(data, '>'));
    assert_null(strchr(data, '&'));
    /* the evidence is the jsonl export, line by line */
    char *nl = strchr(data + 1, '\n');
    assert_non_null(nl);
    json_error_t err;
    json_t *meta = json_loadb(data + 1, (size_t)(nl - data - 1), 0, &err);
    assert_non_null(meta);
    assert_non_null(strstr(json_string_value(json_object_get(meta, "user")), "</script>"));
    json_decref(meta);
    assert_int_equal(count(data, "\"seq\":"), 7);
    assert_string_equal(player, fake_js);
    assert_string_equal(sod, fake_sodium);
    assert_string_equal(wrap, fake_wrappers);
    assert_int_equal(strlen(own), ng_export_page_js_len);
    assert_memory_equal(own, ng_export_page_js, ng_export_page_js_len);

    /* the CSP lists exactly the hashes of the four scripts */
    strcpy(csp, "script-src ");
    const char *scripts[] = {player, sod, wrap, own};
    for (int i = 0; i < 4; i++) {
        ng_export_csp_hash(scripts[i], strlen(scripts[i]), h);
        strcat(csp, h);
        strcat(csp, " ");
    }
    strcat(csp, "'wasm-unsafe-eval'; style-src 'unsafe-inline'; img-src data:; font-src data:\"");
    assert_non_null(strstr(page, "content=\"default-src 'none'; "));
    assert_non_null(strstr(page, csp));
    assert_non_null(strstr(page, "class=\"ok\""));
    free(data);
    free(player);
    free(sod);
    free(wrap);
    free(own);
    free(page);
}

static void test_html_tampered_and_bad_assets(void **state)
{
    int r;
    char *page = run(NG_EXPORT_HTML, 1, NG_VERIFY_TAMPERED, &fake, &r);

    assert_int_equal(r, 0);
    char *v = strstr(page, "<p id=\"verification\" class=\"tampered\">Verification: TAMPERED at "
                           "seq=4: event &lt;hash&gt; differs");
    assert_non_null(v);
    assert_true(v < strstr(page, "<div id=\"player\">"));
    free(page);

    static const char bad_js[] = "var s = '</SCRIPT><script>alert(1)';";
    struct ng_export_assets bad = fake;
    bad.js = bad_js;
    bad.js_len = sizeof(bad_js) - 1;
    page = run(NG_EXPORT_HTML, 1, NG_VERIFY_OK, &bad, &r);
    assert_int_equal(r, -ENOTSUP);
    free(page);

    /* the built-in player is embeddable */
    const struct ng_export_assets *a = ng_export_builtin_assets();
    assert_true(a->js_len > 10000 && a->css_len > 1000);
    assert_int_equal(strlen(a->js), a->js_len);
    assert_int_equal(a->version[0], '3');
    page = run(NG_EXPORT_HTML, 1, NG_VERIFY_OK, NULL, &r);
    assert_int_equal(r, 0);
    free(page);
}

static void test_json_for_html(void **state)
{
    static const char in[] = "{\"a\":\"<x>&\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\xa7\"}";
    struct buf b = {0};

    assert_int_equal(ng_export_json_for_html(in, sizeof(in) - 1, buf_write, &b), 0);
    assert_string_equal(b.p, "{\"a\":\"\\u003cx\\u003e\\u0026\\u2028\\u2029\xe2\x80\xa7\"}");
    free(b.p);
    enum ng_export_format f;
    assert_int_equal(ng_export_parse_format("html", &f), 0);
    assert_int_equal(f, NG_EXPORT_HTML);
    assert_int_equal(ng_export_parse_format("HTML", &f), -EINVAL);
}

/* Command events: a marker in asciicast, the parsed object in jsonl, the
 * timeline in the page's data; hostile bytes stay inert everywhere. */
static const char cmd_json[] =
    "{\"t_ns\":1,\"pid\":7,\"ppid\":1,\"uid\":0,\"gid\":0,\"cwd\":\"/\",\"path\":\"/bin/echo\","
    "\"exe\":\"/usr/bin/echo\",\"argv\":[\"/bin/echo\",\"</script><script>alert(3)</script>\","
    "\"\\u001b[31m\",\"\\\\xff\"],\"result\":0,\"verified\":true}";
static const char cmd_failed[] = "{\"pid\":8,\"uid\":1000,\"path\":\"./x\",\"exe\":null,"
                                 "\"argv\":[\"./x\"],\"result\":13,\"verified\":false}";
static const struct ng_event cmd_events[] = {
    {1, 5000000, 'c', (const uint8_t *)cmd_json, sizeof(cmd_json) - 1, hash, 32},
    EV(2, 10, 'o', "hello\r\n"),
    {3, 20000000, 'c', (const uint8_t *)cmd_failed, sizeof(cmd_failed) - 1, hash, 32},
    {4, 60000000, 'x', (const uint8_t *)exit_json, sizeof(exit_json) - 1, hash, 32},
};
static const char cmd_line[] =
    "/bin/echo '</script><script>alert(3)</script>' $'\\x1b[31m' $'\\xff'";

static char *run_cmds(enum ng_export_format fmt, int *ret)
{
    struct ng_session_info si = info(1);
    struct ng_verify_result v = {.word = NG_VERIFY_OK, .events = 4, .sealed = 4};
    struct src s = {cmd_events, NG_ARRAY_SIZE(cmd_events), 0};
    struct src c = {cmd_events, NG_ARRAY_SIZE(cmd_events), 0}; /* the writer skips non-'c' */
    struct buf b = {0};
    struct ng_export_in in = {.info = &si,
                              .verdict = &v,
                              .assets = &fake,
                              .width = 80,
                              .height = 24,
                              .next = src_next,
                              .next_arg = &s,
                              .cmd_next = src_next,
                              .cmd_arg = &c};

    si.commands = 2;
    si.record_commands = 1;
    *ret = ng_export_write(fmt, &in, buf_write, &b);
    return b.p;
}

static void test_commands(void **state)
{
    char label[256];
    int r;
    char *text = run_cmds(NG_EXPORT_ASCIICAST, &r), *p = text;

    assert_int_equal(r, 0);
    json_decref(line(&p));
    snprintf(label, sizeof(label), "$ %s", cmd_line);
    check_event(&p, 0.005, "m", label);
    check_event(&p, 0.010, "o", "hello\r\n");
    check_event(&p, 0.020, "m", "$ ./x");
    check_event(&p, 0.060, "m", "exit 3");
    free(text);

    text = run_cmds(NG_EXPORT_JSONL, &r);
    p = text;
    json_t *meta = line(&p);
    assert_int_equal(json_integer_value(json_object_get(meta, "commands")), 2);
    assert_true(json_is_true(json_object_get(meta, "record_commands")));
    json_decref(meta);
    json_t *ev = line(&p);
    json_t *argv = json_object_get(json_object_get(ev, "command"), "argv");
    assert_string_equal(json_string_value(json_array_get(argv, 1)),
                        "</script><script>alert(3)</script>");
    assert_string_equal(json_string_value(json_object_get(ev, "kind")), "c");
    json_decref(ev);
    free(text);

    /* the page: the c events are in the evidence (the page's script lists
     * them); the exporter's own command list only with --reveal */
    text = run_cmds(NG_EXPORT_HTML, &r);
    assert_int_equal(r, 0);
    assert_int_equal(count(text, "<script"), 5);
    char *data = script_body(text, 0);
    assert_null(strchr(data, '<'));
    assert_int_equal(count(data, "\"kind\":\"c\""), 2);
    assert_non_null(strstr(data, "\\u003c/script\\u003e\\u003cscript\\u003ealert(3)"));
    assert_null(strstr(text, "id=\"nsgate-cast\""));
    free(data);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_clean),
        cmocka_unit_test(test_asciicast),
        cmocka_unit_test(test_jsonl),
        cmocka_unit_test(test_html),
        cmocka_unit_test(test_html_tampered_and_bad_assets),
        cmocka_unit_test(test_json_for_html),
        cmocka_unit_test(test_commands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
