/*
 * Test vector files as the generators in tools/ write them: `name = hex` lines, long values
 * continued on lines indented by four spaces, `#` comments. Read once, then looked up by name.
 */
#ifndef VECTOR_FILE_H
#define VECTOR_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads the file at `path`; false if it cannot be read or a line is not of the form above. */
bool vector_file_load(const char *path);
/* The bytes of vector `name`; exits the test with a FAIL line if it is missing. */
const uint8_t *vector_bytes(const char *name, size_t *len);
/* A vector of up to 8 bytes as a big-endian number. */
uint64_t vector_number(const char *name);
/* Whether the document at `doc_path` quotes the whole file at `vectors_path` verbatim. */
bool vector_file_quoted_in(const char *vectors_path, const char *doc_path);

#endif
