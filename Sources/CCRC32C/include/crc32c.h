#ifndef SWIFT_RAFT_CRC32C_H
#define SWIFT_RAFT_CRC32C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Extends a CRC32C (Castagnoli, reflected polynomial 0x82F63B78) over `length` bytes.
///
/// `crc` is a finished CRC value (0 for a fresh computation, or a salt), so that
/// `crc32c_extend(crc32c_extend(0, a), b) == crc32c_extend(0, a ++ b)`.
/// Dispatches at run time to SSE4.2 (three interleaved streams) when the CPU has it.
uint32_t crc32c_extend(uint32_t crc, const void *data, size_t length);

/// The portable slicing-by-8 implementation, exposed so tests can compare both paths.
uint32_t crc32c_extend_software(uint32_t crc, const void *data, size_t length);

/// Whether `crc32c_extend` uses the hardware instruction on this CPU.
int crc32c_hardware_available(void);

#ifdef __cplusplus
}
#endif

#endif
