/* ng_sethostname HEX PROGRAM [ARG...]: set the UTS host name to the bytes
 * HEX spells (any bytes, as the kernel allows: a hostile container's host
 * name), then run PROGRAM. Run it in a UTS namespace of its own. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int main(int argc, char **argv)
{
    char name[65];
    size_t n = 0, len = argc > 1 ? strlen(argv[1]) : 0;

    if (argc < 3 || len % 2 || len / 2 > 64)
        return fprintf(stderr, "usage: ng_sethostname HEX(at most 64 bytes) PROGRAM [ARG...]\n"), 2;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hexval(argv[1][i]), lo = hexval(argv[1][i + 1]);
        if (hi < 0 || lo < 0)
            return fprintf(stderr, "ng_sethostname: lowercase hex digits only\n"), 2;
        name[n++] = (char)(hi << 4 | lo);
    }
    if (sethostname(name, n) < 0)
        return perror("sethostname"), 1;
    execvp(argv[2], argv + 2);
    return perror(argv[2]), 127;
}
