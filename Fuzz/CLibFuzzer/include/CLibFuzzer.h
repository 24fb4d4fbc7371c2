// libFuzzer's driver entry (compiler-rt FuzzerInterface.h), present in the runtime that
// `-sanitize=fuzzer` links. hark-fuzz calls it from its own `main`, because SwiftPM links an
// executable target's `main` to the module's entry point and libFuzzer's `main` is then unused.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
