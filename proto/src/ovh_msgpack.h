/*  ovh_msgpack.h - internal: a tiny bounds-checked msgpack token reader.

    Shared by the translator (envelope and skipped values) and the catalog
    check. It never allocates: a token points into the caller's bytes. The
    translator's hot path (the body) does not use it; it switches on the type
    byte itself and writes JSON as it goes.                                  */

#ifndef OVH_MSGPACK_H_INCLUDED
#define OVH_MSGPACK_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "ovh_error.h"

typedef enum {
    OVH_MP_NIL,
    OVH_MP_BOOL,
    OVH_MP_UINT,            //  a value >= 0, whatever its format
    OVH_MP_INT,             //  a negative value
    OVH_MP_FLOAT,
    OVH_MP_STR,
    OVH_MP_BIN,
    OVH_MP_ARRAY,
    OVH_MP_MAP,
    OVH_MP_EXT,
    OVH_MP_RESERVED         //  0xc1
} ovh_mp_kind_t;

typedef struct {
    ovh_mp_kind_t kind;
    bool single;            //  FLOAT came as float32
    union {
        bool b;
        uint64_t u;
        int64_t i;
        double f;
    } v;
    const uint8_t *data;    //  STR, BIN, EXT payload
    uint32_t size;          //  STR, BIN, EXT bytes; ARRAY, MAP entries
} ovh_mp_token_t;

static inline uint16_t
ovh_mp_be16 (const uint8_t *p)
{
    return (uint16_t) ((p [0] << 8) | p [1]);
}

static inline uint32_t
ovh_mp_be32 (const uint8_t *p)
{
    uint32_t v;
    memcpy (&v, p, 4);
    return __builtin_bswap32 (v);
}

static inline uint64_t
ovh_mp_be64 (const uint8_t *p)
{
    uint64_t v;
    memcpy (&v, p, 8);
    return __builtin_bswap64 (v);
}

//  Length of the big-endian size field of a str/bin/array/map/ext format
//  byte that has one (1, 2 or 4 bytes), 0 for the others.
static inline size_t
ovh_mp_size_field (uint8_t byte)
{
    switch (byte) {
        case 0xc4: case 0xc7: case 0xd9:                return 1;
        case 0xc5: case 0xc8: case 0xda: case 0xdc: case 0xde: return 2;
        case 0xc6: case 0xc9: case 0xdb: case 0xdd: case 0xdf: return 4;
        default:                                        return 0;
    }
}

//  Read the value header at *p (and the payload of str, bin and ext).
//  Returns OVH_OK and advances *p, or OVH_E_TRUNCATED when the data ends
//  inside the header, or OVH_E_SIZE_CLAIM when a declared length is larger
//  than the bytes left (an array of N needs N bytes, a map of N 2N bytes).
//  On failure *p is left at the value's first byte.
static inline ovh_code_t
ovh_mp_next (const uint8_t **p, const uint8_t *end, ovh_mp_token_t *token)
{
    const uint8_t *s = *p;
    if (s >= end)
        return OVH_E_TRUNCATED;
    uint8_t byte = *s++;
    size_t left = (size_t) (end - s);
    uint64_t length = 0;
    token->single = false;
    token->data = NULL;
    token->size = 0;
    token->v.u = 0;

    //  Fixed formats first: they carry their value or length in the byte
    if (byte <= 0x7f) {
        token->kind = OVH_MP_UINT;
        token->v.u = byte;
        *p = s;
        return OVH_OK;
    }
    if (byte >= 0xe0) {
        token->kind = OVH_MP_INT;
        token->v.i = (int8_t) byte;
        *p = s;
        return OVH_OK;
    }
    if (byte <= 0x8f) {
        token->kind = OVH_MP_MAP;
        length = byte & 0x0f;
    }
    else
    if (byte <= 0x9f) {
        token->kind = OVH_MP_ARRAY;
        length = byte & 0x0f;
    }
    else
    if (byte <= 0xbf) {
        token->kind = OVH_MP_STR;
        length = byte & 0x1f;
    }
    else {
        size_t field = ovh_mp_size_field (byte);
        size_t scalar = 0;      //  bytes of a fixed-size payload
        switch (byte) {
            case 0xc0: token->kind = OVH_MP_NIL; break;
            case 0xc1: token->kind = OVH_MP_RESERVED; break;
            case 0xc2: case 0xc3:
                token->kind = OVH_MP_BOOL;
                token->v.b = byte == 0xc3;
                break;
            case 0xc4: case 0xc5: case 0xc6: token->kind = OVH_MP_BIN; break;
            case 0xc7: case 0xc8: case 0xc9: token->kind = OVH_MP_EXT; break;
            case 0xca: token->kind = OVH_MP_FLOAT; scalar = 4; break;
            case 0xcb: token->kind = OVH_MP_FLOAT; scalar = 8; break;
            case 0xcc: case 0xcd: case 0xce: case 0xcf:
                token->kind = OVH_MP_UINT;
                scalar = (size_t) 1 << (byte - 0xcc);
                break;
            case 0xd0: case 0xd1: case 0xd2: case 0xd3:
                token->kind = OVH_MP_INT;
                scalar = (size_t) 1 << (byte - 0xd0);
                break;
            case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
                //  fixext: type byte + 1, 2, 4, 8 or 16 data bytes
                token->kind = OVH_MP_EXT;
                scalar = 1 + ((size_t) 1 << (byte - 0xd4));
                break;
            case 0xd9: case 0xda: case 0xdb: token->kind = OVH_MP_STR; break;
            case 0xdc: case 0xdd: token->kind = OVH_MP_ARRAY; break;
            default:              token->kind = OVH_MP_MAP; break;  //  0xde, 0xdf
        }
        if (scalar) {
            if (left < scalar)
                return OVH_E_TRUNCATED;
            const uint8_t *d = s;
            s += scalar;
            if (token->kind == OVH_MP_EXT) {
                token->data = d;
                token->size = (uint32_t) scalar;
            }
            else
            if (token->kind == OVH_MP_FLOAT) {
                token->single = scalar == 4;
                if (scalar == 4) {
                    uint32_t bits = ovh_mp_be32 (d);
                    float value;
                    memcpy (&value, &bits, 4);
                    token->v.f = value;
                }
                else {
                    uint64_t bits = ovh_mp_be64 (d);
                    memcpy (&token->v.f, &bits, 8);
                }
            }
            else {
                uint64_t value = scalar == 1 ? d [0]
                               : scalar == 2 ? ovh_mp_be16 (d)
                               : scalar == 4 ? ovh_mp_be32 (d)
                               : ovh_mp_be64 (d);
                if (token->kind == OVH_MP_UINT)
                    token->v.u = value;
                else {
                    //  Sign-extend from the format's width
                    int shift = 64 - 8 * (int) scalar;
                    token->v.i = (int64_t) (value << shift) >> shift;
                    if (token->v.i >= 0) {
                        token->kind = OVH_MP_UINT;
                        token->v.u = (uint64_t) token->v.i;
                    }
                }
            }
            *p = s;
            return OVH_OK;
        }
        if (!field) {           //  nil, bool, reserved
            *p = s;
            return OVH_OK;
        }
        if (left < field)
            return OVH_E_TRUNCATED;
        length = field == 1 ? s [0] : field == 2 ? ovh_mp_be16 (s) : ovh_mp_be32 (s);
        s += field;
        left -= field;
        if (token->kind == OVH_MP_EXT) {
            if (left < 1)
                return OVH_E_TRUNCATED;
            s++;                //  the ext type byte
            left--;
        }
    }
    //  Sized formats: check the claim before anyone trusts it
    uint64_t needed = token->kind == OVH_MP_MAP ? 2 * length : length;
    if (needed > left)
        return OVH_E_SIZE_CLAIM;
    token->size = (uint32_t) length;
    if (token->kind == OVH_MP_STR || token->kind == OVH_MP_BIN
    ||  token->kind == OVH_MP_EXT) {
        token->data = s;
        s += length;
    }
    *p = s;
    return OVH_OK;
}

//  Skip one value, nested containers included, checking only structure
//  (truncation, size claims, nesting up to 'depth_left' more levels, the
//  reserved byte). Returns OVH_OK and advances *p, or the first problem
//  with *p left at the value where it lies.
static inline ovh_code_t
ovh_mp_skip (const uint8_t **p, const uint8_t *end, int depth_left)
{
    const uint8_t *at = *p;
    ovh_mp_token_t token;
    ovh_code_t code = ovh_mp_next (p, end, &token);
    if (code != OVH_OK)
        return code;
    if (token.kind == OVH_MP_RESERVED) {
        *p = at;
        return OVH_E_RESERVED;
    }
    if (token.kind != OVH_MP_ARRAY && token.kind != OVH_MP_MAP)
        return OVH_OK;
    if (depth_left <= 0) {
        *p = at;
        return OVH_E_DEPTH;
    }
    uint64_t items = token.kind == OVH_MP_MAP ? 2 * (uint64_t) token.size : token.size;
    for (uint64_t item = 0; item < items; item++) {
        code = ovh_mp_skip (p, end, depth_left - 1);
        if (code != OVH_OK)
            return code;
    }
    return OVH_OK;
}

//  Name of a kind, for error messages
static inline const char *
ovh_mp_kind_name (ovh_mp_kind_t kind)
{
    static const char *names [] = {
        "nil", "boolean", "integer", "integer", "float", "string", "bin",
        "array", "map", "ext", "reserved byte 0xc1"
    };
    return names [kind];
}

//  Kind of the value a type byte starts, for error messages
static inline const char *
ovh_mp_byte_kind (uint8_t byte)
{
    ovh_mp_token_t token;
    const uint8_t *p = &byte;
    //  Reading the single byte is enough to learn the kind: the header
    //  parser sets it before it finds the rest missing.
    ovh_mp_next (&p, &byte + 1, &token);
    return ovh_mp_kind_name (token.kind);
}

#endif
