/* One way to parse a subcommand's options (cli.md: getopt_long conventions),
 * driven by a table per subcommand. Pure and re-entrant (no getopt globals):
 * argv in, the options in order and the operands out, or a usage message.
 * Every subcommand, enter included, parses through it; the fuzzer runs it
 * over every table. */
#ifndef NSGATE_OPTPARSE_H
#define NSGATE_OPTPARSE_H

#include <stddef.h>

#define NG_OPT_ARG 1 /* the option takes an argument */

/* One option: id is what the parse returns (the short letter, or >= 256 for
 * long-only ones); shortopt 0 for none, longopt NULL for none. The id 'h' is
 * help: with it the number of operands is not checked. */
struct ng_optdef {
    int id;
    char shortopt;
    const char *longopt;
    unsigned flags;
};

enum {
    /* Options and operands may interleave (nsgate replay SESSION --raw);
     * without it the first operand ends the options (enter's PROGRAM). */
    NG_CMD_PERMUTE = 1u << 0,
    /* A reader: drops privileges before anything is parsed or opened
     * (cli.md "Privileges of the subcommands"). */
    NG_CMD_READER = 1u << 1,
};

struct ng_cmdspec {
    const char *name;
    const struct ng_optdef *opts; /* ends with an entry whose id is 0 */
    unsigned flags;
    int min_operands, max_operands; /* max -1: any number */
    const char *operand;            /* its name in messages: "SESSION" */
};

#define NG_OPTLIST_MAX 128

struct ng_optval {
    int id;
    const char *arg; /* NULL for a flag */
};

struct ng_optlist {
    struct ng_optval v[NG_OPTLIST_MAX];
    size_t n;
    char **operands; /* points into argv, or into operand_buf when permuted */
    int noperands;
    char *operand_buf[NG_OPTLIST_MAX];
};

/* argv[0] is the subcommand's name. "--" ends the options; "-" is an
 * operand; "--name=value", "--name value", "-xVALUE", "-x VALUE" and bundled
 * flags ("-mu") as getopt_long takes them, with unambiguous prefixes of long
 * names. 0, or -EINVAL with a message in err (a usage error, exit 64). */
int ng_optparse(const struct ng_cmdspec *spec, int argc, char **argv, struct ng_optlist *out,
                char *err, size_t errsz);

/* 1 when the option id was given. */
int ng_optlist_has(const struct ng_optlist *l, int id);

#endif
