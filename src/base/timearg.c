/* Parsing and formatting of times for the command line. Fixed-width digit
 * fields are read by hand: strptime accepts signs, spaces and short fields. */
#include "nsgate/timearg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NS 1000000000LL

/* n decimal digits at *s, advancing it; -1 when not all digits. */
static int digits(const char **s, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        char c = (*s)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *s += n;
    return v;
}

static int parse_relative(const char *s, int64_t now_ns, int64_t *ret)
{
    static const struct {
        char unit;
        int64_t sec;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};
    size_t len = strlen(s);
    char num[16];
    uint64_t n;

    if (len < 2 || len > sizeof(num))
        return -EINVAL;
    memcpy(num, s, len - 1);
    num[len - 1] = '\0';
    for (size_t i = 0; i < NG_ARRAY_SIZE(units); i++) {
        if (s[len - 1] != units[i].unit)
            continue;
        /* At most about 100 years back. */
        int r = ng_parse_u64(num, 0, (uint64_t)(3200000000LL / units[i].sec), &n);
        if (r < 0)
            return r;
        *ret = now_ns - (int64_t)n * units[i].sec * NS;
        return 0;
    }
    return -EINVAL;
}

/* Z, +HH:MM, -HH:MM, +HHMM, -HHMM: seconds east of UTC. */
static int parse_zone(const char *s, int *ret_off)
{
    int sign, h, m;

    if (strcmp(s, "Z") == 0) {
        *ret_off = 0;
        return 0;
    }
    if (*s != '+' && *s != '-')
        return -EINVAL;
    sign = *s++ == '-' ? -1 : 1;
    h = digits(&s, 2);
    if (*s == ':')
        s++;
    m = digits(&s, 2);
    if (h < 0 || m < 0 || h > 23 || m > 59 || *s)
        return -EINVAL;
    *ret_off = sign * (h * 3600 + m * 60);
    return 0;
}

static int parse_clock(const char **p, struct tm *tm, int64_t *frac_ns)
{
    const char *s = *p;

    tm->tm_hour = digits(&s, 2);
    if (*s++ != ':')
        return -EINVAL;
    tm->tm_min = digits(&s, 2);
    if (*s == ':') {
        s++;
        tm->tm_sec = digits(&s, 2);
        if (*s == '.') {
            int64_t scale = NS / 10;
            s++;
            if (*s < '0' || *s > '9')
                return -EINVAL;
            for (; *s >= '0' && *s <= '9'; s++, scale /= 10)
                *frac_ns += (*s - '0') * scale;
        }
    }
    if (tm->tm_hour < 0 || tm->tm_hour > 23 || tm->tm_min < 0 || tm->tm_min > 59 ||
        tm->tm_sec < 0 || tm->tm_sec > 60)
        return -EINVAL;
    *p = s;
    return 0;
}

int ng_parse_time(const char *s, int64_t now_ns, int64_t *ret_ns)
{
    struct tm tm;
    int64_t frac = 0;
    int off = 0, zoned = 0;
    time_t t;

    if (!s || !*s)
        return -EINVAL;
    if (s[0] >= '0' && s[0] <= '9' && strlen(s) < 12 && !strchr(s, '-'))
        return parse_relative(s, now_ns, ret_ns);
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = digits(&s, 4);
    if (tm.tm_year < 1970 || *s++ != '-')
        return -EINVAL;
    tm.tm_mon = digits(&s, 2);
    if (*s++ != '-')
        return -EINVAL;
    tm.tm_mday = digits(&s, 2);
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31)
        return -EINVAL;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    if (*s == 'T' || *s == ' ') {
        s++;
        if (parse_clock(&s, &tm, &frac) < 0)
            return -EINVAL;
        if (*s) {
            if (parse_zone(s, &off) < 0)
                return -EINVAL;
            zoned = 1;
        }
    } else if (*s) {
        return -EINVAL;
    }
    tm.tm_isdst = -1;
    t = zoned ? timegm(&tm) - off : mktime(&tm);
    if (t == (time_t)-1)
        return -ERANGE;
    *ret_ns = (int64_t)t * NS + frac;
    return 0;
}

static void split(int64_t ns, time_t *sec, long *nsec)
{
    *sec = (time_t)(ns / NS);
    *nsec = (long)(ns % NS);
    if (*nsec < 0) {
        *nsec += NS;
        (*sec)--;
    }
}

void ng_format_time_utc(int64_t ns, char *buf, size_t size)
{
    struct tm tm;
    time_t sec;
    long nsec;
    char base[32];

    split(ns, &sec, &nsec);
    if (!gmtime_r(&sec, &tm) || strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        snprintf(base, sizeof(base), "invalid");
    snprintf(buf, size, "%s.%06ldZ", base, nsec / 1000);
}

void ng_format_time_local(int64_t ns, char *buf, size_t size)
{
    struct tm tm;
    time_t sec;
    long nsec;

    split(ns, &sec, &nsec);
    if (!localtime_r(&sec, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(buf, size, "invalid");
}
