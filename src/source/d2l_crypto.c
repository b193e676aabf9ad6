/* SPDX-License-Identifier: MIT */
/*
 * AES-128-CBC for the D2L protocol, through OpenSSL's libcrypto: the only includer of an OpenSSL
 * header.
 *
 * libcrypto is not linked but loaded when the first D2L cipher is made (RTLD_LOCAL, as
 * src/mqtt/paho.c loads paho): linked, it cost every daemon, D2L or not, 1.4 MiB of resident
 * memory, 404 KiB of it private and dirty (its relocations), on a serial meter that never uses
 * it (VmRSS 2.7 -> 4.2 MiB, /proc/PID/smaps; bench/d2l_rss.py). A second loader (paho's TLS
 * library for mqtts://) gets the same copy: the dynamic linker maps a soname once. The table is
 * the module's one mutable global, set once from the loop's thread.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "linkyd/d2l.h"
#include "linkyd/log.h"

/* Debian 12's libssl3, then the OpenSSL 1.1 of older systems: the calls below are in both. */
static const char *const sonames[] = {"libcrypto.so.3", "libcrypto.so.1.1"};

static struct {
	bool tried, loaded;
	const EVP_CIPHER *aes; /* fetched once */
	__typeof__(EVP_CIPHER_CTX_new) *ctx_new;
	__typeof__(EVP_CIPHER_CTX_free) *ctx_free;
	__typeof__(EVP_CIPHER_CTX_set_padding) *set_padding;
	__typeof__(EVP_aes_128_cbc) *aes_128_cbc;
	__typeof__(EVP_CipherInit_ex) *init;
	__typeof__(EVP_CipherUpdate) *update;
} evp;

struct d2l_cipher {
	EVP_CIPHER_CTX *ctx;
	uint8_t key[D2L_KEY_SIZE], iv[D2L_KEY_SIZE];
};

#define RESOLVE(h, f, name) ((evp.f = (__typeof__(evp.f)) dlsym(h, name)) != NULL)

/* OpenSSL 3's, looked up apart: 1.1 has neither. */
typedef int init_crypto_fn(uint64_t opts, const void *settings);
typedef EVP_CIPHER *fetch_fn(void *libctx, const char *algorithm, const char *properties);

static bool
resolve(void *h)
{
	init_crypto_fn *init_crypto = (init_crypto_fn *) dlsym(h, "OPENSSL_init_crypto");
	fetch_fn *fetch = (fetch_fn *) dlsym(h, "EVP_CIPHER_fetch");

	if (!RESOLVE(h, ctx_new, "EVP_CIPHER_CTX_new") ||
	    !RESOLVE(h, ctx_free, "EVP_CIPHER_CTX_free") ||
	    !RESOLVE(h, set_padding, "EVP_CIPHER_CTX_set_padding") ||
	    !RESOLVE(h, aes_128_cbc, "EVP_aes_128_cbc") || !RESOLVE(h, init, "EVP_CipherInit_ex") ||
	    !RESOLVE(h, update, "EVP_CipherUpdate"))
		return false;
	/* Without the error strings (about 100 KiB resident, which AES never uses), and without
	 * the atexit() cleanup, which would race paho's exiting TLS thread (src/mqtt/paho.c says
	 * why): OpenSSL initialises once per process, and a D2L input may come first. openssl.cnf
	 * is still read, though skipping it would save about 570 KiB: mqtts:// in the same daemon
	 * would then run without the system's TLS policy (Debian's minimum protocol and security
	 * level). */
	if (init_crypto)
		(void) init_crypto(OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS | OPENSSL_INIT_NO_ATEXIT,
		                   NULL);
	/* Fetched once: OpenSSL 3 would look EVP_aes_128_cbc() up again at every frame. */
	evp.aes = fetch ? fetch(NULL, "AES-128-CBC", NULL) : NULL;
	if (!evp.aes)
		evp.aes = evp.aes_128_cbc();
	return evp.aes != NULL;
}

/* Load libcrypto once; said once when it cannot be. */
static bool
load(void)
{
	const char *why = "";

	if (evp.tried)
		return evp.loaded;
	evp.tried = true;
	for (size_t i = 0; i < sizeof(sonames) / sizeof(sonames[0]) && !evp.loaded; i++) {
		void *h = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);

		if (!h) {
			why = dlerror();
			continue;
		}
		evp.loaded = resolve(h);
		if (!evp.loaded) {
			why = dlerror();
			(void) dlclose(h);
		}
	}
	if (!evp.loaded)
		log_err(
		    "cannot load OpenSSL's libcrypto for the D2L inputs: %s (is Debian's package "
		    "libssl3 installed?)",
		    why);
	return evp.loaded;
}

int
d2l_hex128(const char *hex, uint8_t ret[D2L_KEY_SIZE])
{
	uint8_t out[D2L_KEY_SIZE];

	if (strlen(hex) != 2 * D2L_KEY_SIZE)
		return -EINVAL;
	for (size_t i = 0; i < 2 * D2L_KEY_SIZE; i++) {
		char c = hex[i];
		int v = c >= '0' && c <= '9'   ? c - '0'
		        : c >= 'a' && c <= 'f' ? c - 'a' + 10
		        : c >= 'A' && c <= 'F' ? c - 'A' + 10
		                               : -1;

		if (v < 0)
			return -EINVAL;
		out[i / 2] = (uint8_t) (i % 2 ? out[i / 2] | v : v << 4);
	}
	memcpy(ret, out, sizeof(out));
	return 0;
}

int
d2l_cipher_new(const uint8_t key[D2L_KEY_SIZE], const uint8_t iv[D2L_KEY_SIZE],
               struct d2l_cipher **ret)
{
	struct d2l_cipher *c;

	if (!load())
		return -ELIBACC;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ctx = evp.ctx_new();
	if (!c->ctx) {
		free(c);
		return -ENOMEM;
	}
	memcpy(c->key, key, D2L_KEY_SIZE);
	memcpy(c->iv, iv, D2L_KEY_SIZE);
	*ret = c;
	return 0;
}

int
d2l_cipher_run(struct d2l_cipher *c, bool encrypt, uint8_t *buf, size_t len)
{
	int out = 0;

	/* Every frame starts from the IV: the module chains nothing across frames. The length
	 * is a multiple of the block, so no final block is ever pending. */
	if (len % 16 || len > INT32_MAX ||
	    evp.init(c->ctx, evp.aes, NULL, c->key, c->iv, encrypt) != 1 ||
	    evp.set_padding(c->ctx, 0) != 1 || evp.update(c->ctx, buf, &out, buf, (int) len) != 1 ||
	    (size_t) out != len)
		return -EIO;
	return 0;
}

struct d2l_cipher *
d2l_cipher_free(struct d2l_cipher *c)
{
	if (c) {
		evp.ctx_free(c->ctx);
		/* The key is the module's secret: not left in freed memory. */
		explicit_bzero(c, sizeof(*c));
		free(c);
	}
	return NULL;
}
