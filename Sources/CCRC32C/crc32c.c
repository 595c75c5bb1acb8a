// CRC32C with run-time dispatch: SSE4.2 `crc32` in three interleaved streams where the CPU
// has it, portable slicing-by-8 elsewhere. No compiler flags are needed: the hardware path
// is compiled for SSE4.2 per function with a target attribute, and only called after
// __builtin_cpu_supports says so.
//
// Three streams: the `crc32` instruction has a latency of 3 cycles and a throughput of 1 per
// cycle, so a single dependency chain runs at a third of the unit's speed. We split a long
// buffer into three equal blocks, run one chain per block, and combine the partial CRCs by
// multiplying with x^(8*blocklength) modulo the polynomial (the "shift" tables below).

#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#define POLY 0x82f63b78u

// Block lengths for the three-stream loops; shift tables exist for exactly these two.
#define LONG_BLOCK 8192
#define SHORT_BLOCK 256

static uint32_t slicing_table[8][256];
static uint32_t long_shift[4][256];
static uint32_t short_shift[4][256];
static int has_sse42;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

// Multiplies a and b modulo the (reflected) CRC polynomial.
static uint32_t multiply_mod_poly(uint32_t a, uint32_t b) {
    uint32_t m = (uint32_t)1 << 31;
    uint32_t p = 0;
    for (;;) {
        if (a & m) {
            p ^= b;
            if ((a & (m - 1)) == 0) break;
        }
        m >>= 1;
        b = (b & 1) ? (b >> 1) ^ POLY : b >> 1;
    }
    return p;
}

// x^(8 * bytes) modulo the polynomial: the operator that appends `bytes` zero bytes.
static uint32_t x_pow_8n(size_t bytes) {
    uint32_t power = (uint32_t)1 << 30;   // x^1
    uint32_t result = (uint32_t)1 << 31;  // x^0
    size_t n = bytes * 8;
    while (n) {
        if (n & 1) result = multiply_mod_poly(power, result);
        power = multiply_mod_poly(power, power);
        n >>= 1;
    }
    return result;
}

static void build_shift_table(uint32_t table[4][256], size_t bytes) {
    uint32_t op = x_pow_8n(bytes);
    for (int k = 0; k < 4; k++)
        for (uint32_t b = 0; b < 256; b++)
            table[k][b] = multiply_mod_poly(op, b << (8 * k));
}

static inline uint32_t shift(uint32_t table[4][256], uint32_t crc) {
    return table[0][crc & 0xff] ^ table[1][(crc >> 8) & 0xff] ^ table[2][(crc >> 16) & 0xff] ^
           table[3][crc >> 24];
}

static void build_tables(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = n;
        for (int k = 0; k < 8; k++) crc = (crc & 1) ? (crc >> 1) ^ POLY : crc >> 1;
        slicing_table[0][n] = crc;
    }
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = slicing_table[0][n];
        for (int k = 1; k < 8; k++) {
            crc = slicing_table[0][crc & 0xff] ^ (crc >> 8);
            slicing_table[k][n] = crc;
        }
    }
    build_shift_table(long_shift, LONG_BLOCK);
    build_shift_table(short_shift, SHORT_BLOCK);
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    has_sse42 = __builtin_cpu_supports("sse4.2") != 0;
#else
    has_sse42 = 0;
#endif
}

static inline void ensure_tables(void) { pthread_once(&tables_once, build_tables); }

static inline uint64_t load64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, sizeof v);  // unaligned-safe; little-endian hosts only (x86-64, arm64)
    return v;
}

static uint32_t software_register(uint32_t crc, const unsigned char *p, size_t len) {
    while (len && ((uintptr_t)p & 7)) {
        crc = slicing_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
        len--;
    }
    while (len >= 8) {
        uint64_t word = load64(p) ^ crc;
        crc = slicing_table[7][word & 0xff] ^ slicing_table[6][(word >> 8) & 0xff] ^
              slicing_table[5][(word >> 16) & 0xff] ^ slicing_table[4][(word >> 24) & 0xff] ^
              slicing_table[3][(word >> 32) & 0xff] ^ slicing_table[2][(word >> 40) & 0xff] ^
              slicing_table[1][(word >> 48) & 0xff] ^ slicing_table[0][word >> 56];
        p += 8;
        len -= 8;
    }
    while (len--) crc = slicing_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

uint32_t crc32c_extend_software(uint32_t crc, const void *data, size_t length) {
    ensure_tables();
    return ~software_register(~crc, (const unsigned char *)data, length);
}

#if defined(__x86_64__)
#include <nmmintrin.h>

// Runs three crc32 chains over three adjacent blocks of `block` bytes each, then folds the
// second and third into the first with the shift table for that block length.
__attribute__((target("sse4.2"), always_inline))
static inline uint64_t three_streams(uint64_t crc0, const unsigned char **cursor, size_t block,
                                     uint32_t table[4][256]) {
    const unsigned char *p = *cursor;
    const unsigned char *end = p + block;
    uint64_t crc1 = 0, crc2 = 0;
    do {
        crc0 = _mm_crc32_u64(crc0, load64(p));
        crc1 = _mm_crc32_u64(crc1, load64(p + block));
        crc2 = _mm_crc32_u64(crc2, load64(p + 2 * block));
        p += 8;
    } while (p < end);
    crc0 = shift(table, (uint32_t)crc0) ^ (uint32_t)crc1;
    crc0 = shift(table, (uint32_t)crc0) ^ (uint32_t)crc2;
    *cursor = p + 2 * block;
    return crc0;
}

__attribute__((target("sse4.2")))
static uint32_t hardware_register(uint32_t crc, const unsigned char *p, size_t len) {
    uint64_t crc0 = crc;
    while (len && ((uintptr_t)p & 7)) {
        crc0 = _mm_crc32_u8((uint32_t)crc0, *p++);
        len--;
    }
    for (; len >= 3 * LONG_BLOCK; len -= 3 * LONG_BLOCK) crc0 = three_streams(crc0, &p, LONG_BLOCK, long_shift);
    for (; len >= 3 * SHORT_BLOCK; len -= 3 * SHORT_BLOCK) crc0 = three_streams(crc0, &p, SHORT_BLOCK, short_shift);
    for (; len >= 8; len -= 8, p += 8) crc0 = _mm_crc32_u64(crc0, load64(p));
    while (len--) crc0 = _mm_crc32_u8((uint32_t)crc0, *p++);
    return (uint32_t)crc0;
}
#endif

int crc32c_hardware_available(void) {
    ensure_tables();
    return has_sse42;
}

uint32_t crc32c_extend(uint32_t crc, const void *data, size_t length) {
    ensure_tables();
#if defined(__x86_64__)
    if (has_sse42) return ~hardware_register(~crc, (const unsigned char *)data, length);
#endif
    return ~software_register(~crc, (const unsigned char *)data, length);
}
