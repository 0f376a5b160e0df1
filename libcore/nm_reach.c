#include "nm_reach.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nm_rpc.h"
#include "nm_sock.h"
#include "nm_time.h"

static bool same_addr(const struct nm_reach_addr *a, const struct addrinfo *ai)
{
	return a->len == ai->ai_addrlen && memcmp(&a->sa, ai->ai_addr, a->len) == 0;
}

static int take_addrs(struct nm_reach_host *h, const struct addrinfo *res, unsigned port)
{
	const struct addrinfo *ai;

	h->addr = calloc(NM_REACH_MAX_ADDRS, sizeof(*h->addr));
	if (!h->addr)
		return -ENOMEM;
	for (ai = res; ai && h->naddr < NM_REACH_MAX_ADDRS; ai = ai->ai_next) {
		struct nm_reach_addr *a = &h->addr[h->naddr];
		bool dup = false;

		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(a->sa))
			continue;
		for (size_t i = 0; i < h->naddr; i++)
			dup = dup || same_addr(&h->addr[i], ai);
		if (dup)
			continue;
		memcpy(&a->sa, ai->ai_addr, ai->ai_addrlen);
		a->len = ai->ai_addrlen;
		if (a->sa.ss_family == AF_INET)
			((struct sockaddr_in *)&a->sa)->sin_port = htons((uint16_t)port);
		else
			((struct sockaddr_in6 *)&a->sa)->sin6_port = htons((uint16_t)port);
		nm_sock_addr_str((struct sockaddr *)&a->sa, a->text, sizeof(a->text), 0);
		a->result = -ETIMEDOUT;
		h->naddr++;
	}
	return 0;
}

static int resolve_all(struct nm_reach_host *hosts, size_t n, unsigned port, int deadline_ms,
		       struct nm_err *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct gaicb *cb, **list;
	int64_t end = nm_time_ms() + deadline_ms;
	int rc = 0;

	cb = calloc(n, sizeof(*cb));
	list = calloc(n, sizeof(*list));
	if (!cb || !list) {
		free(cb);
		free(list);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		cb[i].ar_name = hosts[i].name;
		cb[i].ar_request = &hints;
		list[i] = &cb[i];
	}
	if (getaddrinfo_a(GAI_NOWAIT, list, (int)n, NULL) != 0) {
		free(cb);
		free(list);
		return nm_err_set(err, -EAGAIN, "cannot start name resolution");
	}
	for (;;) {
		bool busy = false;
		int64_t left = end - nm_time_ms();

		for (size_t i = 0; i < n; i++)
			busy = busy || gai_error(&cb[i]) == EAI_INPROGRESS;
		if (!busy)
			break;
		if (left <= 0) {
			for (size_t i = 0; i < n; i++)
				if (gai_error(&cb[i]) == EAI_INPROGRESS &&
				    gai_cancel(&cb[i]) == EAI_NOTCANCELED) {
					/* Running in glibc's thread: it must end
					 * before cb goes away. */
					const struct gaicb *one[1] = { &cb[i] };

					while (gai_error(&cb[i]) == EAI_INPROGRESS)
						gai_suspend(one, 1, NULL);
				}
			break;
		}
		struct timespec ts = { .tv_sec = left / 1000, .tv_nsec = (left % 1000) * 1000000 };
		gai_suspend((const struct gaicb *const *)list, (int)n, &ts);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		int e = gai_error(&cb[i]);

		if (e == EAI_CANCELED || e == EAI_INPROGRESS)
			hosts[i].resolve_error = EAI_AGAIN;
		else if (e != 0)
			hosts[i].resolve_error = e;
		else if (take_addrs(&hosts[i], cb[i].ar_result, port) < 0)
			rc = nm_err_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		if (cb[i].ar_result)
			freeaddrinfo(cb[i].ar_result);
	free(cb);
	free(list);
	return rc;
}

static int connect_all(struct nm_reach_host *hosts, size_t n, int deadline_ms, struct nm_err *err)
{
	size_t total = 0, k = 0, pending = 0;
	struct pollfd *pfd;
	struct nm_reach_addr **who;
	int64_t start = nm_time_us(), end = nm_time_ms() + deadline_ms;

	for (size_t i = 0; i < n; i++)
		total += hosts[i].naddr;
	if (total == 0)
		return 0;
	pfd = calloc(total, sizeof(*pfd));
	who = calloc(total, sizeof(*who));
	if (!pfd || !who) {
		free(pfd);
		free(who);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < hosts[i].naddr; j++) {
			struct nm_reach_addr *a = &hosts[i].addr[j];
			int fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
					0);

			if (fd < 0) {
				a->result = -errno;
				continue;
			}
			if (connect(fd, (struct sockaddr *)&a->sa, a->len) == 0) {
				a->result = 0;
				a->us = nm_time_us() - start;
				close(fd);
				continue;
			}
			if (errno != EINPROGRESS) {
				a->result = -errno;
				close(fd);
				continue;
			}
			pfd[k].fd = fd;
			pfd[k].events = POLLOUT;
			who[k++] = a;
			pending++;
		}
	}
	while (pending > 0) {
		int64_t left = end - nm_time_ms();
		int r;

		if (left <= 0)
			break;
		r = poll(pfd, k, (int)left);
		if (r < 0 && errno == EINTR)
			break;
		if (r <= 0)
			break;
		for (size_t i = 0; i < k; i++) {
			int soerr = 0;
			socklen_t sl = sizeof(soerr);

			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			getsockopt(pfd[i].fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
			who[i]->result = -soerr;
			if (soerr == 0)
				who[i]->us = nm_time_us() - start;
			close(pfd[i].fd);
			pfd[i].fd = -1;
			pending--;
		}
	}
	for (size_t i = 0; i < k; i++)
		if (pfd[i].fd >= 0)
			close(pfd[i].fd); /* still -ETIMEDOUT */
	free(pfd);
	free(who);
	return 0;
}

int nm_reach_check(struct nm_reach_host *hosts, size_t n, unsigned port, int deadline_ms,
		   struct nm_err *err)
{
	int rc;

	if (n == 0)
		return 0;
	if (n > NM_REACH_MAX_HOSTS)
		return nm_err_set(err, -E2BIG, "too many servers to check (%zu, at most %d)", n,
				  NM_REACH_MAX_HOSTS);
	rc = resolve_all(hosts, n, port ? port : NM_RPC_NFS_PORT, deadline_ms, err);
	if (rc < 0)
		return rc;
	return connect_all(hosts, n, deadline_ms, err);
}

void nm_reach_describe(const struct nm_reach_addr *a, char *buf, size_t len)
{
	switch (a->result) {
	case 0: snprintf(buf, len, "ok %.1f ms", (double)a->us / 1000.0); break;
	case -ECONNREFUSED: snprintf(buf, len, "refused"); break;
	case -ETIMEDOUT: snprintf(buf, len, "timeout"); break;
	case -ENETUNREACH:
	case -EHOSTUNREACH: snprintf(buf, len, "unreachable"); break;
	default: snprintf(buf, len, "error: %s", strerror(-a->result));
	}
}

void nm_reach_free(struct nm_reach_host *hosts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(hosts[i].name);
		free(hosts[i].addr);
		hosts[i].name = NULL;
		hosts[i].addr = NULL;
		hosts[i].naddr = 0;
	}
}
