/* Between the audit log reader's two files: auditlog.c (lines, records,
 * the collection) and auditlog_read.c (files, descriptors, gzip). */
#ifndef NSGATE_AUDITLOG_INT_H
#define NSGATE_AUDITLOG_INT_H

#include "nsgate/auditlog.h"

/* A line longer than NG_AUDITLOG_LINE_MAX, skipped: counted. */
void ng_auditlog_note_long_line(struct ng_auditlog *log);

#endif
