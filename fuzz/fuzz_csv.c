/* libFuzzer target for the CSV reader (src/ingest/csv.c): reads the input
 * to the end twice, whole and in small pieces, and aborts unless both give
 * the same rows, lines, raw bytes and errors, and every row is well formed.
 * Its corpus is fuzz/corpus/csv/, replayed by ctest. */
#include "fuzz_ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bc_fuzz_reader(data, size, BC_FORMAT_CSV);
	return 0;
}
