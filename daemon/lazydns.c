/* lazydns - c-ares and libresolv for nfsmigd, loaded when first used.
 *
 * Every upcall is a fresh exec of nfsmigd -k, and most are answered by the
 * daemon: loading and relocating c-ares and libresolv on each would cost
 * more than the whole answer.  nfsmigd is linked without them (Makefile.am);
 * libcore's nm_dns calls the functions below, which load the libraries
 * (by their sonames, the ABI the headers describe) the first time one is
 * called, once, under pthread_once, and then call through.  If they cannot
 * be loaded, each call fails the way the library says failure (no channel:
 * ARES_ENOMEM; no parse: -1 and EMSGSIZE) and nm_dns reports it.
 *
 * The prototypes are the headers' own (__typeof__ of the declarations), so
 * a header that changes a signature breaks the build, not the call. */
#include <ares.h>
#include <arpa/nameser.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define LAZYDNS_CARES  "libcares.so.2"
#define LAZYDNS_RESOLV "libresolv.so.2"

#define LAZYDNS_CARES_FUNCS(X)                                                                     \
	X(ares_cancel)                                                                             \
	X(ares_destroy)                                                                            \
	X(ares_free_data)                                                                          \
	X(ares_get_servers_ports)                                                                  \
	X(ares_getsock)                                                                            \
	X(ares_init_options)                                                                       \
	X(ares_library_cleanup)                                                                    \
	X(ares_library_init)                                                                       \
	X(ares_process_fd)                                                                         \
	X(ares_search)                                                                             \
	X(ares_set_servers_ports)                                                                  \
	X(ares_strerror)                                                                           \
	X(ares_timeout)
#define LAZYDNS_RESOLV_FUNCS(X)                                                                    \
	X(ns_initparse)                                                                            \
	X(ns_msg_getflag)                                                                          \
	X(ns_parserr)

#define LAZYDNS_FIELD(f) __typeof__(f) *f;
static struct {
	LAZYDNS_CARES_FUNCS(LAZYDNS_FIELD)
	LAZYDNS_RESOLV_FUNCS(LAZYDNS_FIELD)
} fn;
static bool loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *cares = dlopen(LAZYDNS_CARES, RTLD_NOW | RTLD_LOCAL);
	void *resolv = dlopen(LAZYDNS_RESOLV, RTLD_NOW | RTLD_LOCAL);
	void *p;

	if (!cares || !resolv)
		return;
		/* dlsym's object pointer to a function pointer: copied, as POSIX
		 * says to. */
#define LAZYDNS_SYM(h, f)                                                                          \
	if (!(p = dlsym(h, #f)))                                                                   \
		return;                                                                            \
	memcpy(&fn.f, &p, sizeof(p));
#define LAZYDNS_CARES_SYM(f)  LAZYDNS_SYM(cares, f)
#define LAZYDNS_RESOLV_SYM(f) LAZYDNS_SYM(resolv, f)
	LAZYDNS_CARES_FUNCS(LAZYDNS_CARES_SYM)
	LAZYDNS_RESOLV_FUNCS(LAZYDNS_RESOLV_SYM)
	loaded = true;
}

static bool ready(void)
{
	pthread_once(&once, load);
	return loaded;
}

int ares_library_init(int flags)
{
	return ready() ? fn.ares_library_init(flags) : ARES_ENOTINITIALIZED;
}

void ares_library_cleanup(void)
{
	if (ready())
		fn.ares_library_cleanup();
}

const char *ares_strerror(int code)
{
	return ready() ? fn.ares_strerror(code)
		       : "the DNS library (" LAZYDNS_CARES ") cannot be loaded";
}

int ares_init_options(ares_channel *channelptr, struct ares_options *options, int optmask)
{
	return ready() ? fn.ares_init_options(channelptr, options, optmask) : ARES_ENOMEM;
}

/* The rest need a channel: only ares_init_options makes one, so the
 * libraries are loaded by then. */
void ares_destroy(ares_channel channel)
{
	if (ready())
		fn.ares_destroy(channel);
}

void ares_cancel(ares_channel channel)
{
	if (ready())
		fn.ares_cancel(channel);
}

void ares_free_data(void *dataptr)
{
	if (ready())
		fn.ares_free_data(dataptr);
}

int ares_get_servers_ports(ares_channel channel, struct ares_addr_port_node **servers)
{
	return ready() ? fn.ares_get_servers_ports(channel, servers) : ARES_ENOMEM;
}

int ares_set_servers_ports(ares_channel channel, struct ares_addr_port_node *servers)
{
	return ready() ? fn.ares_set_servers_ports(channel, servers) : ARES_ENOMEM;
}

int ares_getsock(ares_channel channel, ares_socket_t *socks, int numsocks)
{
	return ready() ? fn.ares_getsock(channel, socks, numsocks) : 0;
}

struct timeval *ares_timeout(ares_channel channel, struct timeval *maxtv, struct timeval *tv)
{
	return ready() ? fn.ares_timeout(channel, maxtv, tv) : maxtv;
}

void ares_process_fd(ares_channel channel, ares_socket_t read_fd, ares_socket_t write_fd)
{
	if (ready())
		fn.ares_process_fd(channel, read_fd, write_fd);
}

void ares_search(ares_channel channel, const char *name, int dnsclass, int type,
		 ares_callback callback, void *arg)
{
	if (ready())
		fn.ares_search(channel, name, dnsclass, type, callback, arg);
	else
		callback(arg, ARES_ENOMEM, 0, NULL, 0);
}

int ns_initparse(const unsigned char *msg, int msglen, ns_msg *handle)
{
	if (ready())
		return fn.ns_initparse(msg, msglen, handle);
	errno = EMSGSIZE;
	return -1;
}

int ns_msg_getflag(ns_msg handle, int flag)
{
	return ready() ? fn.ns_msg_getflag(handle, flag) : 0;
}

int ns_parserr(ns_msg *handle, ns_sect section, int rrnum, ns_rr *rr)
{
	if (ready())
		return fn.ns_parserr(handle, section, rrnum, rr);
	errno = EMSGSIZE;
	return -1;
}
